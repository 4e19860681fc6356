using Microsoft.Extensions.Options;

namespace Hookline.Server.Hosting;

/// <summary>The data directory, created on first use with owner-only permissions.</summary>
internal sealed class DataDirectory
{
    public DataDirectory(IOptions<StorageOptions> options)
    {
        Path = System.IO.Path.GetFullPath(options.Value.DataDirectory);
        if (!Directory.Exists(Path))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(Path);
            }
            else
            {
                Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
    }

    public string Path { get; }
}
