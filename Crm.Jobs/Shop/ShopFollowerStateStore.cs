using Crm.Jobs.Data;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Crm.Jobs.Shop;

// The follower's one row (shop_follower, id 1, see ShopFollowerState), written only here.
// Each method is one moment of the follower's life and each statement sets only the
// columns that moment knows: the status loop and the stream loop write the row at the same
// time, and neither may undo the other's columns.
internal sealed class ShopFollowerStateStore(NpgsqlDataSource jobs, IOptions<ShopOptions> options)
{
    // host:pid of the process following, for the operator.
    private static readonly string Holder = $"{Environment.MachineName}:{Environment.ProcessId}";

    // The first start of all creates the row; any later one finds it (and its applied_lsn).
    private const string EnsureSql = """
        INSERT INTO shop_follower (id, state, slot, publication, publication_created, snapshot_rows, orders_applied, rejected, updated_at)
        VALUES (1, 'following', @slot, @publication, false, 0, 0, 0, now())
        ON CONFLICT (id) DO NOTHING
        """;

    // Where the stream resumes: NULL until a snapshot has been applied.
    private const string AppliedLsnSql = "SELECT applied_lsn FROM shop_follower WHERE id = 1";

    // shop-unfollow drops only a publication the follower created, never a DBA's.
    private const string PublicationCreatedSql = "UPDATE shop_follower SET publication_created = true WHERE id = 1";

    // Also the slot and publication in use, which the configuration may have changed since.
    private const string StateSql = """
        UPDATE shop_follower SET state = @state, error = @error, holder = @holder, slot = @slot,
            publication = @publication, updated_at = now()
        WHERE id = 1
        """;

    // Progress of a long copy and the heartbeat while it runs (ShopSnapshotHeartbeat), from its own
    // connection: the copy's transaction is not committed yet.
    private const string SnapshotProgressSql = "UPDATE shop_follower SET snapshot_rows = @rows, updated_at = now() WHERE id = 1";

    // In the snapshot's transaction: the copy and the position the stream starts from commit together.
    // snapshot_rows: the rows stored (not the rejected ones, nor an erased person's).
    private const string SnapshotAppliedSql = """
        UPDATE shop_follower SET applied_lsn = @lsn::pg_lsn, snapshot_rows = @stored, snapshot_completed_at = now(),
            orders_applied = orders_applied + @valid, rejected = rejected + @rejected,
            last_applied_at = now(), updated_at = now()
        WHERE id = 1
        """;

    // In the shop transaction's CRM transaction: a replay after a crash skips what committed here.
    // An applied transaction also proves the follower is following again.
    private const string TransactionAppliedSql = """
        UPDATE shop_follower SET applied_lsn = @lsn::pg_lsn, orders_applied = orders_applied + @applied,
            rejected = rejected + @rejected, last_applied_at = now(), updated_at = now(),
            state = 'following', error = NULL
        WHERE id = 1
        """;

    // The status loop's heartbeat, from its own connection (the stream loop's may be mid-transaction).
    private const string HeartbeatSql = "UPDATE shop_follower SET lag_bytes = @lag, holder = @holder, updated_at = now() WHERE id = 1";

    // The retained WAL, from its own connection in any state; it proves nothing about the stream,
    // so updated_at (how the API tells a silent follower) stays as it is.
    private const string WalMeasuredSql = """
        UPDATE shop_follower SET retained_wal_bytes = @retained, wal_status = @status, safe_wal_bytes = @safe,
            max_slot_wal_keep_size = @keep, wal_measured_at = now()
        WHERE id = 1
        """;

    private ShopOptions Options => options.Value;

    // A position is sent as its text ("16/B374D848") and cast: Db types a parameter by its
    // value alone, and Npgsql writes an NpgsqlLogSequenceNumber only when told its type.

    // Creates the row when there is none; the applied position, null before the first snapshot.
    public async Task<NpgsqlLogSequenceNumber?> LoadAppliedLsnAsync(NpgsqlConnection crm, CancellationToken ct)
    {
        await crm.ExecuteAsync(EnsureSql, ct, ("slot", Options.Slot), ("publication", Options.Publication));
        return await crm.ScalarAsync<NpgsqlLogSequenceNumber?>(AppliedLsnSql, ct);
    }

    public Task MarkPublicationCreatedAsync(NpgsqlConnection crm, CancellationToken ct) =>
        crm.ExecuteAsync(PublicationCreatedSql, ct);

    public Task SetStateAsync(NpgsqlConnection crm, ShopFollowerStatus state, string? error, CancellationToken ct) =>
        crm.ExecuteAsync(StateSql, ct,
            ("state", EnumText.ToText(state)), ("error", error), ("holder", Holder),
            ("slot", Options.Slot), ("publication", Options.Publication));

    public async Task ReportSnapshotProgressAsync(long rows, CancellationToken ct)
    {
        await using var connection = await jobs.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(SnapshotProgressSql, ct, ("rows", rows));
    }

    public Task SnapshotAppliedAsync(NpgsqlConnection crm, NpgsqlTransaction transaction,
        NpgsqlLogSequenceNumber lsn, long stored, long valid, long rejected, CancellationToken ct) =>
        crm.ExecuteAsync(SnapshotAppliedSql, transaction, ct, ("lsn", lsn.ToString()), ("stored", stored), ("valid", valid), ("rejected", rejected));

    public Task TransactionAppliedAsync(NpgsqlConnection crm, NpgsqlTransaction transaction,
        NpgsqlLogSequenceNumber lsn, long applied, long rejected, CancellationToken ct) =>
        crm.ExecuteAsync(TransactionAppliedSql, transaction, ct, ("lsn", lsn.ToString()), ("applied", applied), ("rejected", rejected));

    public async Task HeartbeatAsync(long? lag, CancellationToken ct)
    {
        await using var connection = await jobs.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(HeartbeatSql, ct, ("lag", lag), ("holder", Holder));
    }

    public async Task WalMeasuredAsync(ShopSlotWal wal, CancellationToken ct)
    {
        await using var connection = await jobs.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(WalMeasuredSql, ct, ("retained", wal.RetainedBytes), ("status", wal.WalStatus),
            ("safe", wal.SafeBytes), ("keep", wal.MaxSlotWalKeepSize));
    }
}
