namespace Hookline.Core;

/// <summary>Webhooks, events and deliveries belong to exactly one mode and never cross.</summary>
internal static class Modes
{
    public const string Test = "test";
    public const string Live = "live";

    public static bool IsValid(string? mode) => mode is Test or Live;
}

internal static class Products
{
    public const string Payments = "payments";
    public const string Payouts = "payouts";

    public static bool IsValid(string? product) => product is Payments or Payouts;
}
