using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Hookline.Cli.Bench;

/// <summary>
/// Sleeps until a <see cref="Stopwatch"/> timestamp with the kernel's precision (tens of microseconds) where
/// <c>nanosleep</c> is available, not <see cref="Thread.Sleep(int)"/>'s whole milliseconds. S2's generator sleeps
/// between requests; with whole milliseconds each request left up to a millisecond after it was due (0.6 ms at the
/// median at 1k/s, measured), and that delay counted in every latency it reports, though no server caused it.
/// </summary>
internal static class PreciseSleep
{
    public static void Until(long timestamp)
    {
        var wait = timestamp - Stopwatch.GetTimestamp();
        if (wait <= 0)
        {
            return;
        }

        var nanoseconds = (long)(wait * (1e9 / Stopwatch.Frequency));
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            var request = new Timespec(nanoseconds / 1_000_000_000, nanoseconds % 1_000_000_000);
            _ = nanosleep(in request, IntPtr.Zero); // Interrupted early by a signal: the caller's loop sleeps again.
        }
        else
        {
            Thread.Sleep(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, nanoseconds / 100)));
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Timespec(long Seconds, long Nanoseconds);

    [DllImport("libc", SetLastError = true)]
    private static extern int nanosleep(in Timespec request, IntPtr remaining);
}
