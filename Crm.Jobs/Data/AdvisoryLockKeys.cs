using Npgsql;

namespace Crm.Jobs.Data;

// Every one-key PostgreSQL advisory lock the project takes, in one place: two features
// sharing a key would wait for each other for no reason ("CRM" and a number).
public static class AdvisoryLockKeys
{
    // Bulk runs hold it exclusively, per-customer runs shared (SyncEngine).
    public const long Bulk = 0x43524d_0001;

    // A full sync's whole run, a session lock (SyncEngine).
    public const long FullSync = 0x43524d_0002;

    // The process that publishes crm_customers, a session lock (CustomerCountPublisher).
    public const long CustomerCountPublisher = 0x43524d_0003;

    // The transactions that drop and rebuild the deferred indexes of customers (SyncEngine).
    public const long DeferredIndexes = 0x43524d_0004;

    // The process that follows the shop's database, a session lock (ShopFollower).
    public const long ShopFollower = 0x43524d_0005;
}

// A session lock that says "this process does X" (publishes a gauge, follows the shop):
// held by a connection of its own, unpooled, so closing it ends the session and the lock
// can never outlive it in a pool; when the holder dies, its session and the lock go.
public static class SessionLocks
{
    public static NpgsqlDataSource CreateDataSource(string connectionString) =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false });

    // A connection whose session holds the lock, or null while another session holds it.
    public static async Task<NpgsqlConnection?> TryOpenHolderAsync(NpgsqlDataSource dataSource, long key, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        var locked = false;
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", key);
            locked = (bool)(await command.ExecuteScalarAsync(ct))!;
            return locked ? connection : null;
        }
        finally
        {
            if (!locked)
                await connection.DisposeAsync();
        }
    }
}
