namespace Hookline.Core.Accounts;

internal sealed record Account(string Id, string Name, string Email, DateTimeOffset CreatedAt);

/// <summary>An API key as stored: the secret only as a hash.</summary>
internal sealed record ApiKey(string Id, string AccountId, string Mode, byte[] SecretHash, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
