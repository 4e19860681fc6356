using System.CommandLine;
using System.Diagnostics;
using Hookline.Cli.Bench;
using Hookline.Cli.Tests.Infrastructure;

namespace Hookline.Cli.Tests;

/// <summary>
/// <c>hookline bench</c> refuses what it cannot run as asked, before it starts anything: an unknown scenario used to
/// run nothing and exit 0, a zero or negative size was quietly raised to 1, and a report path whose directory did
/// not exist failed only when the report was written, at the end of the run.
/// </summary>
public sealed class BenchArgumentsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("hookline-bench-args-").FullName;

    [Theory]
    [InlineData("--scenarios S9", "--scenarios: there is no scenario 'S9'; choose from S0, S1, S2, S3, S4, S5, S6.")]
    [InlineData("--scenarios S1,S7", "--scenarios: there is no scenario 'S7'; choose from S0, S1, S2, S3, S4, S5, S6.")]
    [InlineData("--scenarios ,", "--scenarios takes a comma-separated list of S0, S1, S2, S3, S4, S5, S6; got none.")]
    [InlineData("--duration 0", "--duration takes seconds from 1 to 3,600; got '0'.")]
    [InlineData("--duration -5", "--duration takes seconds from 1 to 3,600; got '-5'.")]
    [InlineData("--duration 0.5", "--duration takes seconds from 1 to 3,600; got '0.5'.")]
    [InlineData("--duration 3601", "--duration takes seconds from 1 to 3,600; got '3601'.")]
    [InlineData("--duration NaN", "--duration takes seconds from 1 to 3,600; got 'NaN'.")]
    [InlineData("--duration abc", "--duration takes seconds from 1 to 3,600; got 'abc'.")]
    [InlineData("--backlog 0", "--backlog takes a whole number from 1 to 10,000,000; got '0'.")]
    [InlineData("--backlog 1.5", "--backlog takes a whole number from 1 to 10,000,000; got '1.5'.")]
    [InlineData("--backlog 10000001", "--backlog takes a whole number from 1 to 10,000,000; got '10000001'.")]
    [InlineData("--concurrency 0", "--concurrency takes a whole number from 1 to 1,024; got '0'.")]
    [InlineData("--concurrency 99999999999", "--concurrency takes a whole number from 1 to 1,024; got '99999999999'.")]
    [InlineData("--window -1", "--window takes a whole number from 1 to 1,000,000; got '-1'.")]
    [InlineData("--rates 0", "--rates takes whole numbers from 1 to 100,000; got '0'.")]
    [InlineData("--rates 1000,x", "--rates takes whole numbers from 1 to 100,000; got 'x'.")]
    [InlineData("--rates ,", "--rates takes a comma-separated list of whole numbers from 1 to 100,000; got none.")]
    [InlineData("--fanout 10,5000", "--fanout takes whole numbers from 1 to 4,096; got '5000'.")]
    [InlineData("--fanout -3", "--fanout takes whole numbers from 1 to 4,096; got '-3'.")]
    public void A_value_the_bench_cannot_run_is_refused_with_what_the_option_takes(string arguments, string error)
    {
        var errors = Parse(arguments.Split(' '));

        Assert.Equal([error], errors);
    }

    [Fact]
    public void A_report_path_that_cannot_be_written_is_refused_before_the_run()
    {
        var missing = Path.Combine(_directory, "no-such-directory", "bench.json");
        Assert.Equal([$"--out: the directory '{Path.GetDirectoryName(missing)}' does not exist."], Parse("--out", missing));
        Assert.Equal([$"--out: '{_directory}' is a directory; give the path of the JSON file to write."], Parse("--out", _directory));
        Assert.Equal(["--out takes the path of the JSON file to write; got an empty one."], Parse("--out", " "));
        Assert.Empty(Parse("--out", Path.Combine(_directory, "bench.json")));
    }

    [Fact]
    public void Every_bad_value_is_reported_at_once()
    {
        var errors = Parse("--scenarios", "S1,S9", "--rates", "0", "--duration", "0");

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("--scenarios:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--rates ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("--duration ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--quick --store sqlite --duration 1 --backlog 300 --fanout 3 --rates 50 --concurrency 4")]
    [InlineData("--scenarios s0,S1,s5 --duration 2.5 --window 1000000 --backlog 10000000 --concurrency 1024")]
    [InlineData("--fanout 1,4096 --rates 1,100000 --duration 3600")]
    [InlineData("--scenarios S0,,S6")]
    public void Values_in_range_are_accepted(string arguments)
    {
        Assert.Empty(Parse(arguments.Split(' ')));
    }

    [Fact]
    public void Lists_are_read_as_typed_and_scenario_names_in_any_case()
    {
        Assert.Equal([10, 100, 1000], BenchArguments.Counts("--fanout", " 10, 100 ,1000,", 1, 4096).Values);
        Assert.Equal(["S0", "S1", "S5"], BenchArguments.Scenarios("s0,S1,s5,s1").Names!.Order());
        Assert.Equal(2.5, BenchArguments.Seconds("2.5").Value);
        Assert.Equal(7, BenchArguments.Count("--window", "7", 1, 10).Value);
    }

    [Fact]
    public async Task The_command_exits_with_the_error_and_runs_nothing()
    {
        var report = Path.Combine(_directory, "bench.json");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _directory };
        foreach (var arg in new[] { ServerProcess.HooklineDll(), "bench", "--scenarios", "S9", "--out", report })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(1, process.ExitCode);
        Assert.StartsWith("--scenarios: there is no scenario 'S9'", await error, StringComparison.Ordinal);
        Assert.DoesNotContain("hookline bench:", await output, StringComparison.Ordinal);
        Assert.False(File.Exists(report));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static List<string> Parse(params string[] arguments)
        => [.. new RootCommand { BenchCommand.Create() }.Parse(["bench", .. arguments]).Errors.Select(e => e.Message)];
}
