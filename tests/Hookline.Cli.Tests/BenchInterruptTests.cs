using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hookline.Cli.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Hookline.Cli.Tests;

/// <summary>
/// A bench run stops when asked. Its own Kestrel hosts used to claim SIGINT and SIGTERM (each host's console lifetime
/// cancels the default exit), so Ctrl-C did nothing and a full run could only be killed, leaving its children behind.
/// SIGTERM here, which no shell ignores for a background job as it may SIGINT; both reach the same handler.
/// </summary>
public sealed class BenchInterruptTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("hookline-bench-interrupt-").FullName;

    [Fact]
    public async Task A_signal_stops_the_run_mid_scenario_cleans_up_and_writes_no_report()
    {
        // The bench's throwaway data directories go under TMPDIR: a directory of the test's own, so that what the
        // run leaves behind can be counted.
        var temp = Directory.CreateDirectory(Path.Combine(_directory, "tmp")).FullName;
        var report = Path.Combine(_directory, "bench.json");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _directory };
        start.Environment["TMPDIR"] = temp;
        foreach (var arg in new[] { ServerProcess.HooklineDll(), "bench", "--quick", "--store", "sqlite", "--scenarios", "S2", "--rates", "200", "--duration", "120", "--out", report })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var log = new StringBuilder();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Its first progress line: Hookline started in process, a data directory made, requests flowing.
            await running.Task.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.NotEmpty(Directory.GetDirectories(temp, "hookline-bench-*"));

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            // Two minutes of S2 were asked for; it stops well inside them.
            using var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(stopped.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            output.WriteLine(Text());
        }

        Assert.Equal(130, process.ExitCode);
        Assert.Contains("hookline bench: interrupted; what it had started is stopped and removed. No table or report was written.", Text(), StringComparison.Ordinal);
        Assert.DoesNotContain("MISSED", Text(), StringComparison.Ordinal);
        Assert.False(File.Exists(report));
        Assert.Empty(Directory.GetDirectories(temp, "hookline-bench-*"));

        void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                log.AppendLine(line);
            }

            if (line.Contains("S2 200/s sqlite", StringComparison.Ordinal))
            {
                running.TrySetResult();
            }
        }

        string Text()
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
