using System.Security.Cryptography;

namespace Hookline.Core.Secrets;

/// <summary>Where the master key comes from: configuration (<c>Secrets:MasterKey</c>, base64) or a file in the data directory.</summary>
internal static class MasterKey
{
    public const string FileName = "master.key";

    public static byte[] Load(string? configured, string dataDirectory)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            var key = Convert.FromBase64String(configured.Trim());
            return key.Length == 32 ? key : throw new InvalidOperationException("Secrets:MasterKey must be the base64 of 32 bytes.");
        }

        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            var key = Convert.FromBase64String(File.ReadAllText(path).Trim());
            return key.Length == 32 ? key : throw new InvalidOperationException($"{path} must hold the base64 of 32 bytes.");
        }

        var fresh = RandomNumberGenerator.GetBytes(32);
        PrivateFile.WriteNew(path, Convert.ToBase64String(fresh));
        return fresh;
    }
}

/// <summary>Writes files only the owner can read (secrets in the data directory).</summary>
internal static class PrivateFile
{
    public static void WriteNew(string path, string content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(content);
        writer.Flush();
        stream.Flush(flushToDisk: true);
    }
}
