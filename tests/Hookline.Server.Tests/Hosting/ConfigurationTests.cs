using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Hookline.Server.Tests.Hosting;

/// <summary>How the host reads its configuration.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("hookline-config-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task Configuration_files_are_read_at_start_and_not_watched()
    {
        await using var app = HooklineServer.Build([$"--Storage:DataDirectory={_data}"]);

        // appsettings.json and appsettings.{Environment}.json are still sources; none of them keeps a watcher on
        // the content root (which holds the default data directory) to reload on change.
        var files = ((IConfigurationRoot)app.Configuration).Providers.OfType<FileConfigurationProvider>().ToList();
        Assert.NotEmpty(files);
        Assert.All(files, file => Assert.False(file.Source.ReloadOnChange, $"{file.Source.Path} is watched for changes"));
    }

    [Fact]
    public async Task An_operator_can_still_ask_for_reload_on_change()
    {
        await using var app = HooklineServer.Build([$"--Storage:DataDirectory={_data}", "--hostBuilder:reloadConfigOnChange=true"]);

        var files = ((IConfigurationRoot)app.Configuration).Providers.OfType<FileConfigurationProvider>().ToList();
        Assert.NotEmpty(files);
        Assert.All(files, file => Assert.True(file.Source.ReloadOnChange));
    }

    [Fact]
    public async Task The_thread_pool_starts_four_threads_per_core_without_ramping_up()
    {
        await using var app = HooklineServer.Build([$"--Storage:DataDirectory={_data}"]);

        ThreadPool.GetMinThreads(out var workers, out _);
        Assert.True(workers >= 4 * Environment.ProcessorCount, $"minimum {workers} worker threads on {Environment.ProcessorCount} cores");
    }

    [Fact]
    public async Task Server_MinThreads_raises_the_pool_minimum_and_never_lowers_it()
    {
        var wanted = (4 * Environment.ProcessorCount) + 3;
        await using (HooklineServer.Build([$"--Storage:DataDirectory={_data}", $"--Server:MinThreads={wanted}"]))
        {
            ThreadPool.GetMinThreads(out var raised, out _);
            Assert.True(raised >= wanted, $"minimum {raised}, asked for {wanted}");
        }

        ThreadPool.GetMinThreads(out var before, out _);
        await using (HooklineServer.Build([$"--Storage:DataDirectory={_data}", "--Server:MinThreads=1"]))
        {
            ThreadPool.GetMinThreads(out var after, out _);
            Assert.True(after >= before, $"lowered from {before} to {after}");
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-4")]
    [InlineData("40000")]
    public void An_out_of_range_Server_MinThreads_stops_the_start_with_its_name(string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => HooklineServer.Build([$"--Storage:DataDirectory={_data}", $"--Server:MinThreads={value}"]));
        Assert.Contains("Server:MinThreads", error.Message);
    }
}
