using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Hookline.Storage.Sqlite;

/// <summary>
/// A write statement compiled once on the writer connection and bound by position. The writer runs the same
/// few statements for every delivery; through <see cref="SqliteCommand"/> each execution of a fresh command
/// compiled its SQL again, and every execution looked each parameter up by name (18 % of the writer's time
/// in a profile of S1, docs/benchmarks.md). SQL for it numbers its parameters (<c>?1</c>, <c>?2</c>, …) so the
/// positions are written where they are used.
/// </summary>
/// <remarks>
/// Runs on the connection's own handle, so it takes part in whatever transaction the connection is in.
/// Single-threaded like the writer loop that owns it; disposed with the writer connection.
/// </remarks>
internal sealed class PreparedStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly int _parameters;

    public PreparedStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        Check(raw.sqlite3_prepare_v2(_db, sql, out _statement));
        _parameters = raw.sqlite3_bind_parameter_count(_statement);
    }

    /// <summary>Binds every parameter, in order (<c>?1</c> first), then runs the statement once; returns the rows it changed.</summary>
    public int Execute(params ReadOnlySpan<Value> values)
    {
        if (values.Length != _parameters)
        {
            throw new ArgumentException($"The statement has {_parameters} parameters; {values.Length} values were given.", nameof(values));
        }

        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                Check(values[i].Bind(_statement, i + 1));
            }

            var step = raw.sqlite3_step(_statement);
            if (step != raw.SQLITE_DONE)
            {
                // The statement's error is the connection's last one until the reset below.
                Check(step == raw.SQLITE_ROW ? raw.SQLITE_MISUSE : step);
            }

            return raw.sqlite3_changes(_db);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
            raw.sqlite3_clear_bindings(_statement);
        }
    }

    public void Dispose() => _statement.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }
    }

    /// <summary>One parameter value: null, an integer, text or a blob; no boxing.</summary>
    internal readonly struct Value
    {
        private readonly long _integer;
        private readonly object? _reference;
        private readonly Kind _kind;

        private Value(Kind kind, long integer, object? reference)
        {
            _kind = kind;
            _integer = integer;
            _reference = reference;
        }

        private enum Kind
        {
            Null,
            Integer,
            Text,
            Blob,
        }

        public static implicit operator Value(long value) => new(Kind.Integer, value, null);

        public static implicit operator Value(int value) => new(Kind.Integer, value, null);

        public static implicit operator Value(long? value) => value is { } v ? new(Kind.Integer, v, null) : default;

        public static implicit operator Value(int? value) => value is { } v ? new(Kind.Integer, v, null) : default;

        public static implicit operator Value(string? value) => value is null ? default : new(Kind.Text, 0, value);

        public static implicit operator Value(byte[]? value) => value is null ? default : new(Kind.Blob, 0, value);

        public int Bind(sqlite3_stmt statement, int index) => _kind switch
        {
            Kind.Integer => raw.sqlite3_bind_int64(statement, index, _integer),
            Kind.Text => raw.sqlite3_bind_text(statement, index, (string)_reference!),
            // A zero-length span would bind NULL; an empty blob is still a blob.
            Kind.Blob when ((byte[])_reference!).Length == 0 => raw.sqlite3_bind_zeroblob(statement, index, 0),
            Kind.Blob => raw.sqlite3_bind_blob(statement, index, (byte[])_reference!),
            _ => raw.sqlite3_bind_null(statement, index),
        };
    }
}
