using System.Net;
using System.Net.Mail;
using System.Net.Mime;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Hookline.Core.Notifications;

/// <summary>
/// Sends the outbox over SMTP. Notifications are leased like deliveries, so several workers send each one
/// once; a send that fails is retried with backoff, a permanent refusal (5xx) ends it failed. The SMTP
/// server's answer is recorded either way. Without SMTP configured, each unsent notification is logged once.
/// </summary>
internal sealed partial class NotificationSender(
    INotificationStore store,
    IOptions<SmtpOptions> options,
    TimeProvider time,
    ILogger<NotificationSender> logger) : BackgroundService
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(2);
    private readonly SmtpOptions _smtp = options.Value;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
    private readonly string _owner = $"{Environment.MachineName}/{Environment.ProcessId}/{Ids.RandomString(6)}";

    public void Wake() => _wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_smtp.IsConfigured)
                {
                    while (await SendDueAsync(stoppingToken) > 0)
                    {
                    }
                }
                else
                {
                    await ReportUnsentAsync(stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.OutboxFailed(logger, e);
            }

            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var timer = Task.Delay(_smtp.PollInterval, time, wait.Token);
            var woken = _wake.Reader.WaitToReadAsync(wait.Token).AsTask();
            await Task.WhenAny(timer, woken);
            await wait.CancelAsync();
            _wake.Reader.TryRead(out _);
        }
    }

    private async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        var leased = await store.LeaseNotificationsAsync(_owner, time.GetUtcNow(), LeaseDuration, 20, cancellationToken);
        foreach (var item in leased)
        {
            var result = await SendAsync(item, cancellationToken);
            await store.CompleteNotificationAsync(result, CancellationToken.None);
        }

        return leased.Count;
    }

    private async Task<NotificationResult> SendAsync(LeasedNotification item, CancellationToken cancellationToken)
    {
        var n = item.Notification;
        var (subject, text, html) = NotificationContent.Render(n);
        try
        {
            using var message = new MailMessage(_smtp.From, n.Recipient) { Subject = subject, Body = text, IsBodyHtml = false };
            message.AlternateViews.Add(AlternateView.CreateAlternateViewFromString(html, System.Text.Encoding.UTF8, MediaTypeNames.Text.Html));
            message.Headers.Add("X-Hookline-Notification", n.Id);
            using var client = new SmtpClient(_smtp.Host, _smtp.Port)
            {
                EnableSsl = _smtp.UseTls,
                DeliveryMethod = SmtpDeliveryMethod.Network,
                Timeout = 30_000,
                Credentials = _smtp.Username is null ? null : new NetworkCredential(_smtp.Username, _smtp.Password),
            };
            await client.SendMailAsync(message, cancellationToken);
            Log.Sent(logger, n.Kind, n.WebhookId, n.Id);
            return new NotificationResult(n.Id, item.LeaseToken, NotificationStatus.Sent, $"accepted by {_smtp.Host}:{_smtp.Port}", null, time.GetUtcNow());
        }
        catch (Exception e) when (e is SmtpException or InvalidOperationException or IOException or FormatException)
        {
            var code = (e as SmtpException)?.StatusCode;
            var reply = code is null ? e.Message : $"{(int)code} {e.Message}";
            var permanent = e is FormatException || code is SmtpStatusCode.MailboxUnavailable or SmtpStatusCode.UserNotLocalTryAlternatePath
                or SmtpStatusCode.ExceededStorageAllocation or SmtpStatusCode.MailboxNameNotAllowed or SmtpStatusCode.TransactionFailed;
            var attempts = n.Attempts + 1;
            if (permanent || attempts >= _smtp.MaxAttempts)
            {
                Log.GaveUp(logger, n.Id, attempts, reply);
                return new NotificationResult(n.Id, item.LeaseToken, NotificationStatus.Failed, reply, null, time.GetUtcNow());
            }

            var delay = TimeSpan.FromTicks(Math.Min(_smtp.RetryBaseDelay.Ticks * (1L << Math.Min(attempts - 1, 20)), _smtp.RetryMaxDelay.Ticks));
            Log.WillRetry(logger, n.Id, reply, delay);
            return new NotificationResult(n.Id, item.LeaseToken, NotificationStatus.Unsent, reply, time.GetUtcNow() + delay, time.GetUtcNow());
        }
    }

    private async Task ReportUnsentAsync(CancellationToken cancellationToken)
    {
        var recent = await store.ListNotificationsAsync(null, null, 100, 0, cancellationToken);
        foreach (var n in recent.Where(n => n.Status == NotificationStatus.Unsent && _reported.Add(n.Id)))
        {
            Log.NotConfigured(logger, n.Kind, n.WebhookId, n.Id);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(5001, LogLevel.Information, "Sent {Kind} notification {NotificationId} for webhook {WebhookId}")]
        public static partial void Sent(ILogger logger, string kind, string webhookId, string notificationId);

        [LoggerMessage(5002, LogLevel.Warning, "Notification {NotificationId} not sent ({Reply}); retrying in {Delay}")]
        public static partial void WillRetry(ILogger logger, string notificationId, string reply, TimeSpan delay);

        [LoggerMessage(5003, LogLevel.Error, "Notification {NotificationId} failed after {Attempts} attempts: {Reply}")]
        public static partial void GaveUp(ILogger logger, string notificationId, int attempts, string reply);

        [LoggerMessage(5004, LogLevel.Warning, "SMTP is not configured (Smtp:Host): {Kind} notification {NotificationId} for webhook {WebhookId} stays unsent; see GET /v1/notifications")]
        public static partial void NotConfigured(ILogger logger, string kind, string webhookId, string notificationId);

        [LoggerMessage(5005, LogLevel.Error, "The notification outbox could not be read; will retry")]
        public static partial void OutboxFailed(ILogger logger, Exception exception);
    }
}
