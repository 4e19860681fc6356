using System.Globalization;

namespace Hookline.Cli.Bench;

/// <summary>
/// What <c>hookline bench</c> accepts on its command line, and the error for what it does not. Each check returns null
/// when the value is fine, otherwise one sentence naming the option, what it takes and what it was given.
/// </summary>
internal static class BenchArguments
{
    public const double MinSeconds = 1;

    /// <summary>An hour per phase: every scenario stays bounded in time, as the benchmark promises.</summary>
    public const double MaxSeconds = 3600;

    public const int MaxConcurrency = 1024;

    /// <summary>Ten times the default backlog: about ten minutes of queueing on this machine, and gigabytes of disk.</summary>
    public const int MaxBacklog = 10_000_000;

    public const int MaxWindow = 1_000_000;

    /// <summary>S2's generator is one thread sending one request at each due time; past this it only reports falling behind.</summary>
    public const int MaxRate = 100_000;

    /// <summary>Seconds per phase, from <see cref="MinSeconds"/> to <see cref="MaxSeconds"/>, fractions allowed.</summary>
    public static (double? Value, string? Error) Seconds(string text)
        => double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) && seconds is >= MinSeconds and <= MaxSeconds
            ? (seconds, null)
            : (null, $"--duration takes seconds from {MinSeconds:0} to {MaxSeconds:N0}; got '{text}'.");

    /// <summary>One whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static (int? Value, string? Error) Count(string option, string text, int min, int max)
        => int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? (value, null)
            : (null, $"{option} takes a whole number from {min:N0} to {max:N0}; got '{text}'.");

    /// <summary>A comma-separated list of whole numbers, each from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static (IReadOnlyList<int>? Values, string? Error) Counts(string option, string list, int min, int max)
    {
        var items = Split(list);
        if (items.Length == 0)
        {
            return (null, $"{option} takes a comma-separated list of whole numbers from {min:N0} to {max:N0}; got none.");
        }

        var values = new List<int>(items.Length);
        foreach (var item in items)
        {
            if (Count(option, item, min, max) is not ({ } value, null))
            {
                return (null, $"{option} takes whole numbers from {min:N0} to {max:N0}; got '{item}'.");
            }

            values.Add(value);
        }

        return (values, null);
    }

    /// <summary>A comma-separated subset of <see cref="BenchOptions.AllScenarios"/>, in any case.</summary>
    public static (IReadOnlySet<string>? Names, string? Error) Scenarios(string list)
    {
        var known = string.Join(", ", BenchOptions.AllScenarios);
        var items = Split(list);
        if (items.Length == 0)
        {
            return (null, $"--scenarios takes a comma-separated list of {known}; got none.");
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in items)
        {
            var name = BenchOptions.AllScenarios.FirstOrDefault(s => s.Equals(item, StringComparison.OrdinalIgnoreCase));
            if (name is null)
            {
                return (null, $"--scenarios: there is no scenario '{item}'; choose from {known}.");
            }

            names.Add(name);
        }

        return (names, null);
    }

    /// <summary>
    /// Checked before the run, not after it: the report is written last, and a path that cannot take it would
    /// throw the whole run's figures away.
    /// </summary>
    public static string? OutputError(string? path)
    {
        if (path is null)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(path))
        {
            return "--out takes the path of the JSON file to write; got an empty one.";
        }

        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return $"--out: '{path}' is not a usable path ({e.Message})";
        }

        if (Directory.Exists(full))
        {
            return $"--out: '{path}' is a directory; give the path of the JSON file to write.";
        }

        var directory = Path.GetDirectoryName(full);
        return directory is null || Directory.Exists(directory) ? null : $"--out: the directory '{directory}' does not exist.";
    }

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
