using System.Globalization;
using System.Net;
using System.Text;

namespace Hookline.Core.Notifications;

/// <summary>Subject, plain text and HTML of an alert e-mail. Plain facts, what happens next, and what to do.</summary>
internal static class NotificationContent
{
    public static (string Subject, string Text, string Html) Render(Notification notification, string brand = "Hookline")
    {
        var f = notification.Facts;
        var (subject, lead) = notification.Kind switch
        {
            NotificationKind.FailureStreakStarted => ($"[{brand}] Webhook failing: {f.Url}", "Deliveries to your webhook have started failing."),
            NotificationKind.FailureStreakHalfway => ($"[{brand}] Webhook still failing, will be disabled {When(f.DisableAt)}: {f.Url}", "Deliveries to your webhook are still failing."),
            NotificationKind.WebhookDisabled => ($"[{brand}] Webhook disabled: {f.Url}", "Your webhook has been disabled because every delivery failed for the whole disable window."),
            NotificationKind.WebhookReenabled => ($"[{brand}] Webhook enabled again: {f.Url}", "Your webhook has been enabled again."),
            _ => ($"[{brand}] Webhook notice: {f.Url}", "There is news about your webhook."),
        };

        var lines = new List<(string Label, string Value)>
        {
            ("Webhook", $"{f.Url} ({notification.WebhookId})"),
            ("Mode", f.Mode),
        };
        if (f.FailingSince is { } since)
        {
            lines.Add(("Failing since", Stamp(since)));
        }

        if (notification.Kind != NotificationKind.WebhookReenabled)
        {
            lines.Add(("Failing deliveries", f.FailingDeliveries.ToString(CultureInfo.InvariantCulture)));
            lines.Add(("Last error", LastError(f)));
            if (!string.IsNullOrEmpty(f.LastExcerpt))
            {
                lines.Add(("Last response", f.LastExcerpt));
            }
        }

        if (f.DisabledAt is { } disabledAt)
        {
            lines.Add(("Disabled at", Stamp(disabledAt)));
        }
        else if (f.DisableAt is { } disableAt && notification.Kind != NotificationKind.WebhookReenabled)
        {
            lines.Add(("Will be disabled at", Stamp(disableAt) + " if no delivery succeeds before then"));
        }

        var advice = notification.Kind switch
        {
            NotificationKind.WebhookDisabled =>
                "While it is disabled, new events are recorded as skipped deliveries, not sent. Fix the endpoint, enable the webhook again "
                + $"(PATCH /v1/webhooks/{notification.WebhookId} with {{\"active\": true}}), then replay what was skipped "
                + $"(POST /v1/webhooks/{notification.WebhookId}/replay with {{\"from\": …, \"to\": …, \"status\": \"skipped\"}}).",
            NotificationKind.WebhookReenabled =>
                $"Events skipped while it was disabled can be replayed: POST /v1/webhooks/{notification.WebhookId}/replay with {{\"status\": \"skipped\"}}.",
            _ =>
                "Deliveries are retried with backoff. Make the endpoint answer 2xx within 5 seconds; one success ends the streak. "
                + $"The attempts log is at GET /v1/webhooks/{notification.WebhookId}/deliveries?status=pending.",
        };

        var text = new StringBuilder().AppendLine(lead).AppendLine();
        foreach (var (label, value) in lines)
        {
            text.Append(label).Append(": ").AppendLine(value);
        }

        text.AppendLine().AppendLine(advice);

        var html = new StringBuilder()
            .Append("<p>").Append(WebUtility.HtmlEncode(lead)).Append("</p><table>");
        foreach (var (label, value) in lines)
        {
            html.Append("<tr><th align=\"left\">").Append(WebUtility.HtmlEncode(label)).Append("</th><td>").Append(WebUtility.HtmlEncode(value)).Append("</td></tr>");
        }

        html.Append("</table><p>").Append(WebUtility.HtmlEncode(advice)).Append("</p>");
        return (subject, text.ToString(), html.ToString());
    }

    private static string LastError(NotificationFacts f) => (f.LastStatusCode, f.LastError) switch
    {
        ({ } code, _) => $"HTTP {code.ToString(CultureInfo.InvariantCulture)}",
        (null, { } error) => error,
        _ => "none recorded",
    };

    private static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string When(DateTimeOffset? time) => time is { } t ? "at " + Stamp(t) : "soon";
}
