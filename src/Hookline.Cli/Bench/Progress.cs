using System.Diagnostics;

namespace Hookline.Cli.Bench;

/// <summary>
/// Progress lines while a phase runs: what the phase reports about itself, once a second (every two seconds
/// when the output is a file, so a log stays readable). Disposing stops it.
/// </summary>
internal sealed class Progress : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _printing;

    private Progress(TextWriter output, string label, Func<string> status)
    {
        var started = Stopwatch.GetTimestamp();
        var every = Console.IsOutputRedirected ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(1);
        _printing = PrintAsync(output, label, status, started, every, _stop.Token);
    }

    public static Progress Start(TextWriter output, string label, Func<string> status) => new(output, label, status);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _printing;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private static async Task PrintAsync(TextWriter output, string label, Func<string> status, long started, TimeSpan every, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(every);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            await output.WriteLineAsync($"    {label,-22} {Ticks.SinceSeconds(started),6:0.0} s  {status()}");
        }
    }
}
