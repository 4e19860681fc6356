using Hookline.Core.Delivery;
using Hookline.Testing;
using Microsoft.Extensions.Options;

namespace Hookline.Core.Tests.Delivery;

public sealed class RetryScheduleTests
{
    private static readonly DateTimeOffset Created = new(2026, 5, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Deadline = Created.AddHours(24);

    private static RetrySchedule Schedule(double jitter = 0.5, Action<DeliveryOptions>? configure = null)
    {
        var options = new DeliveryOptions();
        configure?.Invoke(options);
        return new RetrySchedule(Options.Create(options), new FixedJitter(jitter));
    }

    private static AttemptOutcome Status(int code, TimeSpan? retryAfter = null)
        => new(code is >= 200 and < 300 ? AttemptError.None : AttemptError.HttpStatus, code, TimeSpan.FromMilliseconds(5), null, retryAfter);

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 10)]
    [InlineData(3, 20)]
    [InlineData(4, 40)]
    [InlineData(10, 2560)]
    public void Backoff_doubles_from_the_base_delay(int attemptsMade, int seconds)
    {
        var next = Schedule().Next(attemptsMade, Status(500), Created, Deadline);
        Assert.Equal(Created.AddSeconds(seconds), next);
    }

    [Fact]
    public void Backoff_is_capped_at_the_maximum_delay()
    {
        var schedule = Schedule();
        Assert.Equal(TimeSpan.FromHours(6), schedule.BaseDelay(30));
        Assert.Equal(TimeSpan.FromHours(6), schedule.BaseDelay(1000));
    }

    [Theory]
    [InlineData(0.0, 8)]
    [InlineData(0.999999, 12)]
    public void Jitter_spreads_each_delay_by_at_most_twenty_percent(double random, int seconds)
    {
        var next = Schedule(random).Next(2, Status(500), Created, Deadline)!.Value;
        Assert.Equal(seconds, (next - Created).TotalSeconds, precision: 3);
    }

    [Fact]
    public void Timeouts_and_429_wait_at_least_the_slow_down_floor()
    {
        var schedule = Schedule();
        var timeout = AttemptOutcome.Failure(AttemptError.Timeout, TimeSpan.FromSeconds(5));
        Assert.Equal(Created.AddSeconds(60), schedule.Next(1, timeout, Created, Deadline));
        Assert.Equal(Created.AddSeconds(60), schedule.Next(1, Status(429), Created, Deadline));
        Assert.Equal(Created.AddSeconds(5), schedule.Next(1, Status(500), Created, Deadline));
    }

    [Theory]
    [InlineData(503, 7, 7)]     // within [delay, 2×delay]: honoured
    [InlineData(503, 1, 5)]     // shorter than the backoff: the backoff wins
    [InlineData(503, 0, 5)]
    [InlineData(503, 3600, 10)] // longer than twice the backoff: clamped
    [InlineData(500, 7, 5)]     // only 429 and 503 carry a meaningful Retry-After
    [InlineData(429, 100, 100)] // 429 starts from the 60 s floor, so up to 120 s is honoured
    [InlineData(429, 1000, 120)]
    public void Retry_After_is_honoured_but_clamped_between_the_delay_and_twice_it(int status, int retryAfterSeconds, int expectedSeconds)
    {
        var next = Schedule().Next(1, Status(status, TimeSpan.FromSeconds(retryAfterSeconds)), Created, Deadline);
        Assert.Equal(Created.AddSeconds(expectedSeconds), next);
    }

    [Fact]
    public void No_retry_is_scheduled_past_the_window()
    {
        var schedule = Schedule();
        var nearEnd = Created.AddHours(24).AddSeconds(-3);
        Assert.Null(schedule.Next(1, Status(500), nearEnd, Deadline));
        var earlier = Created.AddHours(24).AddSeconds(-10);
        Assert.Equal(earlier.AddSeconds(5), schedule.Next(1, Status(500), earlier, Deadline));
    }

    [Fact]
    public void Success_and_blocked_destinations_are_never_retried()
    {
        var schedule = Schedule();
        Assert.Null(schedule.Next(1, Status(200), Created, Deadline));
        Assert.Null(schedule.Next(1, AttemptOutcome.Failure(AttemptError.BlockedDestination, TimeSpan.Zero), Created, Deadline));
    }

    [Fact]
    public void A_clock_that_jumped_backwards_never_yields_a_negative_delay()
    {
        var schedule = Schedule(0.0);
        var past = Created.AddHours(-1);
        var next = schedule.Next(1, Status(500), past, Deadline)!.Value;
        Assert.True(next > past);
    }

    [Fact]
    public void Default_options_match_Razorpay()
    {
        var options = new DeliveryOptions();
        Assert.Equal(TimeSpan.FromSeconds(5), options.Timeout);
        Assert.Equal(TimeSpan.FromHours(24), options.RetryWindow);
        Assert.Equal(TimeSpan.FromHours(24), options.DisableAfter);
        Assert.False(options.AllowPrivateNetworks);
        Assert.Equal([80, 443], options.AllowedPorts);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Invalid_options_are_reported_by_name()
    {
        var options = new DeliveryOptions { Timeout = TimeSpan.Zero, RetryJitter = 1.5, MaxConcurrency = 0, MaxLaneDepth = 15, MaxLaneBytes = 0 };
        var problems = options.Validate().ToList();
        Assert.Contains(problems, p => p.Contains("Delivery:Timeout"));
        Assert.Contains(problems, p => p.Contains("Delivery:RetryJitter"));
        Assert.Contains(problems, p => p.Contains("Delivery:MaxConcurrency"));
        Assert.Contains("Delivery:MaxLaneDepth must be at least Delivery:MaxConcurrencyPerWebhook.", problems);
        Assert.Contains("Delivery:MaxLaneBytes must be at least 1.", problems);
        Assert.Empty(new DeliveryOptions { MaxLaneDepth = 16 }.Validate());
    }
}
