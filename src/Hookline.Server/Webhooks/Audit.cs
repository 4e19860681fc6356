using System.Text.Json;
using Hookline.Core.Storage;
using Hookline.Server.Api;
using Hookline.Server.Auth;

namespace Hookline.Server.Webhooks;

/// <summary>Builds audit entries from a request: the fields it changed, with any secret reduced to what happened to it.</summary>
internal static class Audit
{
    private static readonly string[] Recorded = ["url", "events", "active", "alert_email", "product"];

    public static AuditEntry Of(Merchant merchant, string action, RequestObject? body, string? secretChange)
    {
        var changes = new Dictionary<string, object?>();
        foreach (var field in Recorded)
        {
            if (body?.Element(field) is { } value)
            {
                changes[field] = value.Clone();
            }
        }

        if (secretChange is not null)
        {
            changes["secret"] = secretChange;
        }

        return new AuditEntry(merchant.KeyId, action, JsonSerializer.Serialize(changes, ApiJson.Options));
    }
}
