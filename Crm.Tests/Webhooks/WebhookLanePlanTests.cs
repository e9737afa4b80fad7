using Crm.Jobs.Webhooks;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Webhooks;

// Forming a lane's message over a backlog the statistics saw whole (analysed while every one
// of 20 000 events was pending, as autovacuum may during a burst). The primary key gives the
// same id order and a scan of the table with a top-N sort looks as cheap, but both read every
// event claimed so far, so each message would cost more than the one before. In the delivery
// job's session (WebhookJobs.NoSortSql) the pending index serves the batch.
public class WebhookLanePlanTests : IAsyncLifetime
{
    private string _database = "";
    private long _webhookId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            WITH w AS (
                INSERT INTO webhooks (url, events, enabled, secret, created_at, updated_at, lanes)
                VALUES ('http://127.0.0.1:9/hook', '{*}', true, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', now(), now(), 8)
                RETURNING id
            ), e AS (
                INSERT INTO webhook_events (webhook_id, type, occurred_at, data)
                SELECT w.id, 'customer.updated', now(), jsonb_build_object('customerId', c, 'changes', '{}'::jsonb)
                FROM w, generate_series(1, 5) AS r, generate_series(1, 4000) AS c
                ORDER BY r, c
            )
            SELECT id FROM w;
            """, connection) { CommandTimeout = 0 };
        _webhookId = (long)(await command.ExecuteScalarAsync())!;
        await using var analyze = new NpgsqlCommand("ANALYZE webhook_events; ANALYZE webhooks;", connection) { CommandTimeout = 0 };
        await analyze.ExecuteNonQueryAsync();
    }

    public Task DisposeAsync() => TestDatabase.DropAsync(_database);

    [Fact]
    public async Task ALanesMessageReadsThePendingIndexEvenWhenTheStatisticsSayEverythingIsPending()
    {
        var plan = await ExplainInDeliverySessionAsync();

        Assert.Contains("Index Scan using ix_webhook_events_pending on webhook_events (actual rows=100", plan);
        Assert.DoesNotContain("Index Scan using pk_webhook_events on webhook_events (actual rows=100", plan);
        // The batch's scan (the claim's UPDATE, aliased, may hash-join a table this small).
        Assert.DoesNotContain("Seq Scan on webhook_events (actual", plan);
    }

    // EXPLAIN (ANALYZE, BUFFERS) of NextMessageSql for lane 1 of 8, rolled back, in a session
    // set up as the delivery job sets up its own.
    private async Task<string> ExplainInDeliverySessionAsync()
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_database));
        await connection.OpenAsync();
        await using (var set = new NpgsqlCommand(WebhookJobs.NoSortSql, connection))
            await set.ExecuteNonQueryAsync();
        return await Plans.ExplainAnalyzeAsync(connection, WebhookJobs.NextMessageSql, new Dictionary<string, object>
        {
            ["id"] = _webhookId, ["lane"] = 1, ["lanes"] = 8, ["max"] = 100, ["now"] = DateTime.UtcNow,
        });
    }
}
