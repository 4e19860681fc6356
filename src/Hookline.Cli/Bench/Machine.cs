using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Hookline.Cli.Bench;

/// <summary>Where the figures come from. The load average shows how busy the (shared) machine was at the start.</summary>
internal sealed record Machine(string Cpu, int Cores, double MemoryGb, string Os, string Runtime, string Gc, string LoadAverage, string? PostgresBinaries)
{
    public static Machine Describe() => new(
        CpuModel(),
        Environment.ProcessorCount,
        Math.Round(MemTotalKb() / 1024.0 / 1024.0, 1),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        GCSettings.IsServerGC ? "server" : "workstation" + (GCSettings.LatencyMode == GCLatencyMode.Batch ? "" : ", concurrent"),
        Read("/proc/loadavg") is { } load ? string.Join(' ', load.Split(' ').Take(3)) : "unknown",
        PostgresCluster.BinDirectory());

    private static string CpuModel()
        => File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
            : RuntimeInformation.ProcessArchitecture.ToString();

    private static long MemTotalKb()
    {
        var line = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)) : null;
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private static string? Read(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;
}
