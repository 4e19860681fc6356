using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace Hookline.Server.Api;

/// <summary>Razorpay-style query parameters: <c>count</c> (1–100, default 10), <c>skip</c>, <c>from</c>/<c>to</c> in Unix seconds.</summary>
internal static class Paging
{
    public const int MaxCount = 100;
    public const int MaxSkip = 1_000_000;

    public static (int Count, int Skip) Read(HttpRequest request)
        => (Int(request, "count", 10, 1, MaxCount), Int(request, "skip", 0, 0, MaxSkip));

    public static DateTimeOffset? Time(HttpRequest request, string name)
    {
        var text = Single(request, name);
        if (text is null)
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= 253402300799
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : throw ApiException.BadRequest($"The {name} must be a Unix timestamp in seconds.", name);
    }

    /// <summary>
    /// The last instant of the second <paramref name="to"/> names. Times are shown in whole seconds but stored in
    /// milliseconds, so an inclusive <c>to</c> must take its whole second: an event shown with
    /// <c>created_at = to</c> is inside the window.
    /// </summary>
    public static DateTimeOffset EndOfSecond(DateTimeOffset to) => to.AddTicks(TimeSpan.TicksPerSecond - 1);

    public static string? Single(HttpRequest request, string name)
    {
        if (!request.Query.TryGetValue(name, out var values))
        {
            return null;
        }

        return values.Count == 1 ? values.ToString() : throw ApiException.BadRequest($"The {name} may be given once.", name);
    }

    private static int Int(HttpRequest request, string name, int fallback, int min, int max)
    {
        var text = Single(request, name);
        if (text is null)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw ApiException.BadRequest($"The {name} must be an integer from {min} to {max}.", name);
    }
}
