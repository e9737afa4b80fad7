using Crm.Jobs.Webhooks;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Webhooks;

// Forming a lane's message over the lanes bench's backlog (50 000 events of 10 000 customers)
// as the statistics saw it whole (analysed while every event was pending, as autovacuum may
// during a burst): the primary key gives the same id order and looks as good, but reads every
// event claimed so far on the way, so each message would cost more than the one before. The
// pending index serves the batch. (Under about 20 000 pending events so analysed, the planner
// prefers a scan of the table and a top-N sort: docs/BENCHMARKS.md, cheaper webhook messages.)
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
                FROM w, generate_series(1, 5) AS r, generate_series(1, 10000) AS c
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
        var plan = await Plans.ExplainAnalyzeAsync(TestDatabase.ConnectionStringFor(_database), WebhookJobs.NextMessageSql,
            new Dictionary<string, object> { ["id"] = _webhookId, ["lane"] = 1, ["lanes"] = 8, ["max"] = 100, ["now"] = DateTime.UtcNow });

        Assert.Contains("Index Scan using ix_webhook_events_pending on webhook_events (actual rows=100", plan);
        Assert.DoesNotContain("Index Scan using pk_webhook_events on webhook_events (actual rows=100", plan);
        Assert.DoesNotContain("Seq Scan on webhook_events", plan);
    }
}
