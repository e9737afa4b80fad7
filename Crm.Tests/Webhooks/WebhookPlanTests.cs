using Crm.Jobs.Webhooks;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Webhooks;

// The delivery's statements cost what a message costs, not what the outbox holds: over
// 100 000 delivered events and a backlog of 5 000 that the statistics have not seen yet (last
// analysed while nothing was pending, as after a quiet night), forming a message and the
// dispatcher's poll read the pending index only. Read from PostgreSQL's own plans. (The bench
// saw worse plans at 1M orders, with the earlier full index on message_id and an EXISTS
// poll; this table does not provoke them, so these tests pin the plans rather than replay it.)
public class WebhookPlanTests : IAsyncLifetime
{
    private string _database = "";
    private long _webhookId;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _webhookId = await ScalarAsync<long>("""
            ALTER TABLE webhook_events SET (autovacuum_enabled = false);
            ALTER TABLE webhook_messages SET (autovacuum_enabled = false);
            WITH w AS (
                INSERT INTO webhooks (url, events, enabled, secret, created_at, updated_at)
                VALUES ('http://127.0.0.1:9/hook', '{*}', true, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', now(), now())
                RETURNING id
            ), m AS (
                INSERT INTO webhook_messages (webhook_id, message_id, body, event_count, first_occurred_at, created_at, attempts, delivered_at)
                SELECT w.id, 'msg_' || i, '{}', 100, now(), now(), 1, now() FROM w, generate_series(1, 1000) AS i
                RETURNING id, webhook_id
            )
            INSERT INTO webhook_events (webhook_id, type, occurred_at, data, message_id)
            SELECT m.webhook_id, 'customer.created', now(), '{"customerId": 1}', m.id FROM m, generate_series(1, 100);
            ANALYZE webhook_events; ANALYZE webhook_messages;
            INSERT INTO webhook_events (webhook_id, type, occurred_at, data)
            SELECT id, 'customer.updated', now(), '{"customerId": 2}' FROM webhooks, generate_series(1, 5000);
            SELECT id FROM webhooks;
            """);
    }

    public Task DisposeAsync() => TestDatabase.DropAsync(_database);

    [Fact]
    public async Task FormingAMessageReadsOnlyItsEventsFromThePendingIndex()
    {
        var plan = await ExplainAsync(WebhookJobs.NextMessageSql,
            new() { ["id"] = _webhookId, ["lane"] = 1, ["lanes"] = 1, ["max"] = 100, ["now"] = DateTime.UtcNow });

        Assert.DoesNotContain("Seq Scan on webhook_events", plan);
        Assert.DoesNotContain("ix_webhook_events_message_id", plan);
        Assert.Contains("ix_webhook_events_pending", plan);
        Assert.Contains("Limit (actual rows=100 loops=1)", plan.Replace("  ", " "));
    }

    [Fact]
    public async Task TheDispatchersPollReadsTheFirstEntryOfEachPartialIndex()
    {
        var plan = await ExplainAsync(WebhookDispatch.WaitingSql, []);

        Assert.DoesNotContain("Seq Scan on webhook_events", plan);
        Assert.DoesNotContain("Seq Scan on webhook_messages", plan);
        Assert.Contains("ix_webhook_events_pending", plan);
    }

    private Task<string> ExplainAsync(string sql, Dictionary<string, object> parameters) =>
        Plans.ExplainAnalyzeAsync(TestDatabase.ConnectionStringFor(_database), sql, parameters);

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(_database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
