using System.Text.Json.Serialization;

namespace Hookline.Server.Api;

/// <summary>Razorpay's error shape: <c>{"error":{"code","description","field","source","reason","metadata"}}</c>.</summary>
internal sealed record ApiErrorBody(ApiErrorDetail Error);

internal sealed record ApiErrorDetail(
    string Code,
    string Description,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Field,
    string Source,
    string Reason,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>Thrown by handlers to answer with an error; the middleware renders it. Never carries secrets.</summary>
internal sealed class ApiException(int status, string description, string? field = null, string reason = "input_validation_failed")
    : Exception(description)
{
    public int Status { get; } = status;

    public string? Field { get; } = field;

    public string Reason { get; } = reason;

    /// <summary>Seconds for a <c>Retry-After</c> header (429).</summary>
    public string? RetryAfter { get; init; }

    public static ApiException BadRequest(string description, string? field = null) => new(400, description, field);

    public static ApiException NotFound(string description = "The id provided does not exist") => new(404, description, null, "resource_not_found");

    public ApiErrorBody ToBody() => Render(Status, Message, Field, Reason);

    public static ApiErrorBody Render(int status, string description, string? field, string reason)
    {
        var code = status switch
        {
            401 => "BAD_REQUEST_ERROR",
            >= 500 => "SERVER_ERROR",
            _ => "BAD_REQUEST_ERROR",
        };
        return new ApiErrorBody(new ApiErrorDetail(code, description, field, status >= 500 ? "internal" : "business", reason, new Dictionary<string, string>()));
    }
}
