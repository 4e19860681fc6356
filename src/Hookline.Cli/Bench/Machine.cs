using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Hookline.Cli.Bench;

/// <summary>
/// Where the figures come from. The load average shows how busy the (shared) machine was at the start. The L3
/// size matters for memory: the workstation GC sizes its gen0 budget from it (four fifths of it), so a VM that
/// reports its host's 300 MiB L3 lets the heap grow to some 240 MB between collections unless
/// <c>DOTNET_GCgen0size</c> says otherwise (docs/benchmarks.md).
/// </summary>
internal sealed record Machine(string Cpu, string L3Cache, int Cores, double MemoryGb, string Os, string Runtime, string Gc, string ThreadPoolSpinLimit, string LoadAverage, string? PostgresBinaries)
{
    public static Machine Describe() => new(
        CpuModel(),
        Read("/sys/devices/system/cpu/cpu0/cache/index3/size") ?? "unknown",
        Environment.ProcessorCount,
        Math.Round(MemTotalKb() / 1024.0 / 1024.0, 1),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        (GCSettings.IsServerGC ? "server" : "workstation" + (GCSettings.LatencyMode == GCLatencyMode.Batch ? "" : ", concurrent"))
            + (Environment.GetEnvironmentVariable("DOTNET_GCgen0size") is { } gen0 ? $", DOTNET_GCgen0size={gen0}" : ""),
        SpinLimit(),
        Read("/proc/loadavg") is { } load ? string.Join(' ', load.Split(' ').Take(3)) : "unknown",
        PostgresCluster.BinDirectory());

    /// <summary>
    /// How long the thread pool's idle workers spin before they block. The environment's
    /// <c>DOTNET_ThreadPool_UnfairSemaphoreSpinLimit</c> (read by the runtime as hexadecimal) wins over the
    /// runtimeconfig's setting, which Hookline leaves at .NET's default, 70 (Hookline.Cli.csproj says why).
    /// </summary>
    internal static string SpinLimit()
    {
        var variable = Environment.GetEnvironmentVariable(SpinLimitVariable) ?? Environment.GetEnvironmentVariable(SpinLimitLegacyVariable);
        if (variable is not null
            && uint.TryParse(variable.StartsWith("0x", StringComparison.Ordinal) ? variable[2..] : variable, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var fromEnvironment))
        {
            return $"{fromEnvironment} (environment)";
        }

        return AppContext.GetData("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit")?.ToString() ?? "70 (.NET's default)";
    }

    /// <summary>The environment variable that sets the spin limit, over any runtimeconfig.</summary>
    internal const string SpinLimitVariable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    /// <summary>Its older spelling, which the runtime still reads when the first is not set.</summary>
    internal const string SpinLimitLegacyVariable = "COMPlus_ThreadPool_UnfairSemaphoreSpinLimit";

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
