using System.Text.Json;

namespace Hookline.Core.Events;

/// <summary>
/// A small, plausible payload for any catalogue event, for test fires: the event's main entity with a test
/// id and the status its name implies.
/// </summary>
internal static class SamplePayloads
{
    private static readonly Dictionary<string, string> IdPrefixes = new(StringComparer.Ordinal)
    {
        ["payment"] = "pay_", ["order"] = "order_", ["refund"] = "rfnd_", ["invoice"] = "inv_", ["subscription"] = "sub_",
        ["token"] = "token_", ["dispute"] = "disp_", ["payment_link"] = "plink_", ["virtual_account"] = "va_", ["qr_code"] = "qr_",
        ["payout"] = "pout_", ["payout_link"] = "poutlk_", ["transfer"] = "trf_", ["settlement"] = "setl_", ["account"] = "acc_",
        ["fund_account"] = "fa_", ["transaction"] = "txn_",
    };

    public static JsonElement For(EventType type)
    {
        var parts = type.Name.Split('.');
        var entity = parts[0] switch
        {
            "product" or "fulfillment" or "banking_accounts" => "account",
            _ when parts.Length > 2 && parts[1] == "dispute" => "dispute",
            _ => parts[0],
        };
        var status = parts[^1];
        var id = IdPrefixes.GetValueOrDefault(entity, entity + "_") + "Test" + Ids.RandomString(10);
        var payload = new Dictionary<string, object>
        {
            [entity] = new Dictionary<string, object>
            {
                ["entity"] = new Dictionary<string, object> { ["id"] = id, ["entity"] = entity, ["status"] = status, ["notes"] = new Dictionary<string, string> { ["hookline"] = "test fire" } },
            },
        };
        return JsonSerializer.SerializeToElement(payload);
    }
}
