using System.Collections.Concurrent;
using Hookline.Core.Delivery;

namespace Hookline.Core.Secrets;

/// <summary>
/// The signer of the last secret decrypted for each webhook, so a busy webhook's secret is decrypted and keyed once
/// rather than once per delivery. An entry is used only for the very ciphertext it was decrypted from: a rotated
/// secret (a new row) or an older event's secret misses and is decrypted. Bounded: when full it starts over.
/// </summary>
internal sealed class SecretCache(SecretProtector protector, int capacity = 10_000)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public int Count => _entries.Count;

    public DeliverySigner SignerFor(byte[] protectedSecret, string accountId, string webhookId)
    {
        if (_entries.TryGetValue(webhookId, out var entry) && entry.Ciphertext.AsSpan().SequenceEqual(protectedSecret))
        {
            return entry.Signer;
        }

        var signer = new DeliverySigner(protector.Unprotect(protectedSecret, accountId, webhookId));
        if (_entries.Count >= capacity)
        {
            _entries.Clear();
        }

        _entries[webhookId] = new Entry(protectedSecret, signer);
        return signer;
    }

    private sealed record Entry(byte[] Ciphertext, DeliverySigner Signer);
}
