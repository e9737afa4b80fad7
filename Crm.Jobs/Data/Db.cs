using System.Data;
using Npgsql;

namespace Crm.Jobs.Data;

// The few ADO.NET calls the set-based code makes, in one place: a statement with named
// parameters, its scalar or rows, and the advisory locks that order jobs. EF serves the
// entity reads and writes; these serve the statements EF cannot express (COPY, CTE
// upserts, locks), so each feature keeps only its SQL, not the plumbing around it.
public static class Db
{
    // No command timeout: the set-based statements of a big table outlast the default 30 s,
    // and a job is stopped by its cancellation token instead. So Db serves job code on the
    // jobs' pool (CrmDataSources.Jobs) and the shop's connections; request handlers keep the
    // request pool's short timeout (EF Core, or their own commands).
    public static NpgsqlCommand Command(
        this NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    public static async Task<int> ExecuteAsync(
        this NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction, CancellationToken ct,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.Command(sql, transaction, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    public static Task<int> ExecuteAsync(
        this NpgsqlConnection connection, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters) =>
        connection.ExecuteAsync(sql, null, ct, parameters);

    // The first column of the first row; default when there is no row or it is NULL.
    public static async Task<T?> ScalarAsync<T>(
        this NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction, CancellationToken ct,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.Command(sql, transaction, parameters);
        var value = await command.ExecuteScalarAsync(ct);
        return value is null or DBNull ? default : (T)value;
    }

    public static Task<T?> ScalarAsync<T>(
        this NpgsqlConnection connection, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters) =>
        connection.ScalarAsync<T>(sql, null, ct, parameters);

    // Every row, mapped as it is read (the reader never outlives the call).
    public static async Task<List<T>> QueryAsync<T>(
        this NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction, Func<NpgsqlDataReader, T> map,
        CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.Command(sql, transaction, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
            rows.Add(map(reader));
        return rows;
    }

    // A transaction-scoped lock (AdvisoryLockKeys): released by the commit or rollback, so it
    // can never be left behind. Waits as long as the holder needs.
    public static Task LockForTransactionAsync(
        this NpgsqlConnection connection, NpgsqlTransaction transaction, long key, CancellationToken ct) =>
        connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", transaction, ct, ("key", key));

    // The two-key form: a lock named by text within a space of its own, apart from the
    // one-key locks of AdvisoryLockKeys (hashtext: PostgreSQL's hash of the name). The text is
    // public for an EF Core transaction that takes the same lock (ErasureRequests).
    public const string NamedTransactionLockSql = "SELECT pg_advisory_xact_lock(@space, hashtext(@name))";

    public static Task LockForTransactionAsync(
        this NpgsqlConnection connection, NpgsqlTransaction transaction, int space, string name, CancellationToken ct) =>
        connection.ExecuteAsync(NamedTransactionLockSql, transaction, ct, ("space", space), ("name", name));

    // A session lock held until the returned handle is disposed. Disposal skips the unlock
    // when the connection broke: its session, and the lock with it, are already gone.
    public static async Task<IAsyncDisposable> LockForSessionAsync(this NpgsqlConnection connection, long key, CancellationToken ct)
    {
        await connection.ExecuteAsync("SELECT pg_advisory_lock(@key)", ct, ("key", key));
        return new SessionLock(connection, "SELECT pg_advisory_unlock(@key)", [("key", key)]);
    }

    // The two-key form: one lock per id within a space of its own.
    public static async Task<IAsyncDisposable> LockForSessionAsync(this NpgsqlConnection connection, int space, int id, CancellationToken ct)
    {
        await connection.ExecuteAsync("SELECT pg_advisory_lock(@space, @id)", ct, ("space", space), ("id", id));
        return new SessionLock(connection, "SELECT pg_advisory_unlock(@space, @id)", [("space", space), ("id", id)]);
    }

    private sealed class SessionLock(NpgsqlConnection connection, string unlockSql, (string Name, object? Value)[] key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (connection.State == ConnectionState.Open)
                await connection.ExecuteAsync(unlockSql, CancellationToken.None, key);
        }
    }
}
