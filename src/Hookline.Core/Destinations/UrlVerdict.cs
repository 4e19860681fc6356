namespace Hookline.Core.Destinations;

/// <summary>
/// Whether a webhook URL may be saved. <paramref name="Description"/> is the Razorpay-style error text when
/// it may not; <paramref name="Uri"/> is the parsed URL when it may.
/// </summary>
public sealed record UrlVerdict(bool Allowed, string? Description, Uri? Uri);
