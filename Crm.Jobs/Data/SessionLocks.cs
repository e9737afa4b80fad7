using Npgsql;

namespace Crm.Jobs.Data;

// A session lock that says "this process does X" (publishes a gauge, follows the shop):
// held by a connection of its own, unpooled, so closing it ends the session and the lock
// can never outlive it in a pool; when the holder dies, its session and the lock go.
public static class SessionLocks
{
    public static NpgsqlDataSource CreateDataSource(string connectionString) =>
        CrmDataSources.Create(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString,
            CrmDataSources.LocksPool);

    // A connection whose session holds the lock, or null while another session holds it.
    public static async Task<NpgsqlConnection?> TryOpenHolderAsync(NpgsqlDataSource dataSource, long key, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        var locked = false;
        try
        {
            locked = await connection.ScalarAsync<bool>("SELECT pg_try_advisory_lock(@key)", ct, ("key", key));
            return locked ? connection : null;
        }
        finally
        {
            if (!locked)
                await connection.DisposeAsync();
        }
    }
}
