using Microsoft.Data.Sqlite;

namespace Hookline.Storage.Sqlite;

/// <summary>
/// The writer connection's statements, compiled on first use and kept until the connection is closed: the hot
/// writes as <see cref="PreparedStatement"/>s bound by position, and the look-ups ingestion makes once per
/// account and webhook as cached commands (compiled once, parameters set by name).
/// </summary>
internal sealed class WriterStatements(SqliteConnection connection) : IDisposable
{
    private readonly Dictionary<string, PreparedStatement> _prepared = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public SqliteConnection Connection { get; } = connection;

    /// <summary>The statement for <paramref name="sql"/> (a constant: it is the cache key), compiled the first time.</summary>
    public PreparedStatement Prepared(string sql)
    {
        if (!_prepared.TryGetValue(sql, out var statement))
        {
            _prepared[sql] = statement = new PreparedStatement(Connection, sql);
        }

        return statement;
    }

    /// <summary>
    /// A command for <paramref name="sql"/> in <paramref name="transaction"/> with these parameter values; the same
    /// command object every time, so SQLite compiles it once. Not to be disposed by the caller; its reader is.
    /// </summary>
    public SqliteCommand Command(SqliteTransaction transaction, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            _commands[sql] = command = Connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, _) in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }
        }

        command.Transaction = transaction;
        for (var i = 0; i < parameters.Length; i++)
        {
            command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
        }

        return command;
    }

    public void Dispose()
    {
        foreach (var statement in _prepared.Values)
        {
            statement.Dispose();
        }

        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _prepared.Clear();
        _commands.Clear();
    }
}
