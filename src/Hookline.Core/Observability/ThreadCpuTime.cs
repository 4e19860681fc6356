using System.Runtime.InteropServices;

namespace Hookline.Core.Observability;

/// <summary>
/// CPU time the calling thread has used, from the kernel (<c>CLOCK_THREAD_CPUTIME_ID</c>), on Linux only: null
/// elsewhere. Set beside wall-clock time, it tells work that computes from work that waits (for the disk, or for
/// a core while other threads hold both).
/// </summary>
internal static class ThreadCpuTime
{
    private const int ClockThreadCpuTimeId = 3;

    public static TimeSpan? Now()
    {
        if (!OperatingSystem.IsLinux() || clock_gettime(ClockThreadCpuTimeId, out var now) != 0)
        {
            return null;
        }

        return TimeSpan.FromTicks((now.Seconds * 1_000_000_000 + now.Nanoseconds) / 100);
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Timespec(long Seconds, long Nanoseconds);

    [DllImport("libc")]
    private static extern int clock_gettime(int clockId, out Timespec time);
}
