namespace Hookline.Core.Notifications;

/// <summary>Configuration section <c>Smtp</c>. Without <see cref="Host"/>, notifications are kept unsent and listed.</summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    public string? Host { get; set; }

    public int Port { get; set; } = 25;

    /// <summary>Upgrade the connection with STARTTLS.</summary>
    public bool UseTls { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    public string From { get; set; } = "hookline@localhost";

    /// <summary>How often the sender looks for due notifications when nothing wakes it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Wait after the first failed send; doubles each time up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Sends tried before a notification is marked failed (with the defaults, about a day).</summary>
    public int MaxAttempts { get; set; } = 40;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Host);

    internal IEnumerable<string> Validate()
    {
        if (Port is < 1 or > 65535) yield return "Smtp:Port must be 1–65535.";
        if (!From.Contains('@', StringComparison.Ordinal)) yield return "Smtp:From must be an e-mail address.";
        if (PollInterval <= TimeSpan.Zero) yield return "Smtp:PollInterval must be positive.";
        if (RetryBaseDelay <= TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay) yield return "Smtp:RetryBaseDelay must be positive and at most Smtp:RetryMaxDelay.";
        if (MaxAttempts < 1) yield return "Smtp:MaxAttempts must be at least 1.";
        if (Username is not null && Password is null) yield return "Smtp:Password is required with Smtp:Username.";
    }
}
