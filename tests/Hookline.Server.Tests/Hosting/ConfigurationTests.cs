using Microsoft.Extensions.Configuration;

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
}
