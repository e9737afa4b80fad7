using Npgsql;

namespace Crm.Api.Dashboard;

// Write → exact, from what the service keeps: nothing records when each write became exact,
// but customer_sync_requests keeps, per phone, the time of its newest write (requested_at) and
// whether a finished sync has seen it (synced_version), and sync_runs when each run started and
// finished. A write is exact once a run that started after it has finished: the first
// succeeded run (not a dry run) that started after the write is taken as the one that made it
// exact. The limits of that estimate are in docs/OPERATIONS.md (the dashboard's pictures).
public static class FreshnessHistory
{
    // The newest writes made exact since @from, newest first, each with the finish of the first
    // succeeded run that started after it (ix_sync_runs_started_at). requested_at has no index of
    // its own for writes already synced (an index on every write's path for a picture is not
    // worth it): this reads customer_sync_requests once, a row per phone ever written.
    public const string ExactSql = """
        SELECT r.requested_at, x.finished_at
        FROM customer_sync_requests r
        CROSS JOIN LATERAL (
            SELECT s.finished_at FROM sync_runs s
            WHERE s.started_at >= r.requested_at AND s.status = 'succeeded' AND NOT s.dry_run
            ORDER BY s.started_at
            LIMIT 1
        ) AS x
        WHERE r.requested_at >= @from AND r.synced_version >= r.version
        ORDER BY r.requested_at DESC
        LIMIT @limit
        """;

    // The writes no finished sync has seen yet: the partial index of pending requests
    // (ix_customer_sync_requests_dirty).
    public const string PendingSql = """
        SELECT count(*)::int, min(requested_at) FROM customer_sync_requests WHERE version > synced_version
        """;

    public static async Task<WriteFreshness> ReadAsync(NpgsqlDataSource dataSource, DateTime fromUtc, int limit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var exact = new List<(DateTime, TimeSpan)>();
        await using (var command = new NpgsqlCommand(ExactSql, connection))
        {
            command.Parameters.AddWithValue("from", fromUtc);
            command.Parameters.AddWithValue("limit", limit);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var written = reader.GetDateTime(0);
                // A run's times are the app's clock, requested_at the database's: never below zero.
                exact.Add((written, reader.GetDateTime(1) - written is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero));
            }
        }
        await using (var command = new NpgsqlCommand(PendingSql, connection))
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return new WriteFreshness(exact, reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetDateTime(1));
        }
    }
}
