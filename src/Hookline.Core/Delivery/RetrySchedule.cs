using Microsoft.Extensions.Options;

namespace Hookline.Core.Delivery;

/// <summary>Uniform random numbers in [0, 1) for jitter; injectable so schedule tests are exact.</summary>
internal interface IJitterSource
{
    double NextDouble();
}

internal sealed class SharedJitterSource : IJitterSource
{
#pragma warning disable RS0030 // Jitter is not security-sensitive; Random.Shared is the right tool and this is its one use.
    public double NextDouble() => System.Random.Shared.NextDouble();
#pragma warning restore RS0030
}

/// <summary>
/// When the next attempt happens, if at all (DESIGN §3): exponential backoff with jitter, a floor after
/// timeouts and 429s, <c>Retry-After</c> honoured but clamped to [delay, 2×delay] so a receiver can neither
/// make us hammer it nor park a delivery for days, and nothing after the event's retry window.
/// </summary>
internal sealed class RetrySchedule(IOptions<DeliveryOptions> options, IJitterSource jitter)
{
    private readonly DeliveryOptions _options = options.Value;

    public DateTimeOffset Deadline(DateTimeOffset eventCreatedAt) => eventCreatedAt + _options.RetryWindow;

    /// <summary>The backoff before attempt <paramref name="attemptsMade"/> + 1, before jitter and floors.</summary>
    public TimeSpan BaseDelay(int attemptsMade)
    {
        var exponent = Math.Max(0, attemptsMade - 1);
        var seconds = _options.RetryBaseDelay.TotalSeconds * Math.Pow(_options.RetryFactor, exponent);
        return seconds >= _options.RetryMaxDelay.TotalSeconds ? _options.RetryMaxDelay : TimeSpan.FromSeconds(seconds);
    }

    /// <summary>
    /// Null means give up: the failure is permanent or the next attempt would start after
    /// <paramref name="deadline"/> (the event's created_at + window, or a replay's own window).
    /// </summary>
    public DateTimeOffset? Next(int attemptsMade, AttemptOutcome outcome, DateTimeOffset now, DateTimeOffset deadline)
    {
        if (outcome.Succeeded || outcome.IsPermanent)
        {
            return null;
        }

        var spread = _options.RetryJitter * ((2 * jitter.NextDouble()) - 1);
        var delay = BaseDelay(attemptsMade) * (1 + spread);

        if (outcome.Error == AttemptError.Timeout || outcome.StatusCode == 429)
        {
            delay = Max(delay, _options.SlowDownFloor);
        }

        if (outcome.StatusCode is 429 or 503 && outcome.RetryAfter is { } asked)
        {
            delay = asked < delay ? delay : Min(asked, delay * 2);
        }

        var next = now + delay;
        return next > deadline ? null : next;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
