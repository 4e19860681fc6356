using Hookline.Core.Accounts;
using Npgsql;

namespace Hookline.Storage.Postgres;

internal sealed partial class PostgresStore
{
    private const string KeyColumns = "SELECT id, account_id, mode, secret_hash, created_at, revoked_at FROM api_keys";

    public Task CreateAccountAsync(Account account, IReadOnlyList<ApiKey> keys, CancellationToken cancellationToken)
        => WriteAsync(async (connection, transaction) =>
        {
            await using (var command = Command(connection, transaction,
                "INSERT INTO accounts (id, name, email, created_at) VALUES (@id, @name, @email, @at)",
                P("id", account.Id), P("name", account.Name), P("email", account.Email), P("at", Ms(account.CreatedAt))))
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }

            foreach (var key in keys)
            {
                await InsertKeyAsync(connection, transaction, key, cancellationToken);
            }

            return true;
        }, cancellationToken);

    public Task<Account?> GetAccountAsync(string accountId, CancellationToken cancellationToken)
        => ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, "SELECT id, name, email, created_at FROM accounts WHERE id = @id", P("id", accountId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? new Account(reader.GetString(0), reader.GetString(1), reader.GetString(2), Time(reader.GetInt64(3)))
                : null;
        }, cancellationToken);

    public Task<ApiKey?> FindKeyAsync(string keyId, CancellationToken cancellationToken)
        => ReadAsync(async connection =>
        {
            await using var command = Command(connection, null, $"{KeyColumns} WHERE id = @id", P("id", keyId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadKey(reader) : null;
        }, cancellationToken);

    public Task<IReadOnlyList<ApiKey>> ListKeysAsync(string accountId, CancellationToken cancellationToken)
        => ReadAsync<IReadOnlyList<ApiKey>>(async connection =>
        {
            await using var command = Command(connection, null, $"{KeyColumns} WHERE account_id = @a ORDER BY created_at, id", P("a", accountId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var keys = new List<ApiKey>();
            while (await reader.ReadAsync(cancellationToken))
            {
                keys.Add(ReadKey(reader));
            }

            return keys;
        }, cancellationToken);

    public Task AddKeyAsync(ApiKey key, CancellationToken cancellationToken)
        => WriteAsync(async (connection, transaction) =>
        {
            await InsertKeyAsync(connection, transaction, key, cancellationToken);
            return true;
        }, cancellationToken);

    public Task<bool> RevokeKeyAsync(string accountId, string keyId, DateTimeOffset at, CancellationToken cancellationToken)
        => WriteAsync(async (connection, transaction) =>
        {
            await using var command = Command(connection, transaction,
                "UPDATE api_keys SET revoked_at = @at WHERE id = @id AND account_id = @a AND revoked_at IS NULL",
                P("at", Ms(at)), P("id", keyId), P("a", accountId));
            return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    private static ApiKey ReadKey(NpgsqlDataReader reader)
        => new(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<byte[]>(3), Time(reader.GetInt64(4)), TimeOrNull(reader, 5));

    private static async Task InsertKeyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ApiKey key, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction,
            "INSERT INTO api_keys (id, account_id, mode, secret_hash, created_at) VALUES (@id, @a, @m, @h, @at)",
            P("id", key.Id), P("a", key.AccountId), P("m", key.Mode), P("h", key.SecretHash), P("at", Ms(key.CreatedAt)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
