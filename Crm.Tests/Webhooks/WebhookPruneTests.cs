using Crm.Jobs.Webhooks;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Webhooks;

// prune-webhooks and a disabled subscription's backlog: what it never got that is older than
// Crm:Webhooks:RetentionDays (30) goes, its newer events stay; an enabled subscription's
// backlog stays however old. The API role runs no job server, so nothing delivers meanwhile.
public class WebhookPruneTests(ApiRoleFactory factory) : IClassFixture<ApiRoleFactory>
{
    // A subscription with a backlog: an undelivered message (one event, one failed attempt)
    // formed 40 days ago, a pending event 40 days old and one 10 days old.
    private async Task<long> SubscriptionWithABacklogAsync(bool enabled)
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = dataSource.CreateCommand("""
            WITH w AS (
                INSERT INTO webhooks (url, events, enabled, secret, created_at, updated_at)
                VALUES ('https://hooks.example.com/backlog', '{*}', @enabled, 'whsec_cHJ1bmUtdGVzdC1zZWNyZXQtMDEyMzQ1', @now, @now)
                RETURNING id
            ), m AS (
                INSERT INTO webhook_messages (webhook_id, message_id, body, event_count, first_occurred_at, created_at, attempts)
                SELECT id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), '{}', 1, @old, @old, 3 FROM w
                RETURNING id, webhook_id
            ), e AS (
                INSERT INTO webhook_events (webhook_id, type, occurred_at, data, message_id)
                SELECT webhook_id, 'webhook.test', @old, '{}'::jsonb, id FROM m
                UNION ALL SELECT id, 'webhook.test', @old, '{"pending": "old"}', NULL FROM w
                UNION ALL SELECT id, 'webhook.test', @recent, '{"pending": "recent"}', NULL FROM w
            ), d AS (
                INSERT INTO webhook_deliveries (webhook_id, message_id, events, attempt, state, duration_ms, at)
                SELECT webhook_id, id, 1, 3, 'failed', 5, @old FROM m
            )
            SELECT id FROM w
            """);
        command.Parameters.AddWithValue("enabled", enabled);
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("old", now.AddDays(-40));
        command.Parameters.AddWithValue("recent", now.AddDays(-10));
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<(int Messages, int Deliveries, List<string> Events)> BacklogAsync(long webhookId)
    {
        await using var db = factory.CreateDbContext();
        return (await db.WebhookMessages.CountAsync(m => m.WebhookId == webhookId),
                await db.WebhookDeliveries.CountAsync(d => d.WebhookId == webhookId),
                await db.WebhookEvents.Where(e => e.WebhookId == webhookId).OrderBy(e => e.Id).Select(e => e.Data).ToListAsync());
    }

    [Fact]
    public async Task ADisabledSubscriptionLosesItsBacklogOlderThanTheRetentionAndAnEnabledOneKeepsIt()
    {
        var disabled = await SubscriptionWithABacklogAsync(enabled: false);
        var enabled = await SubscriptionWithABacklogAsync(enabled: true);

        await using var scope = factory.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<WebhookJobs>().PruneAsync(CancellationToken.None);

        Assert.Equal(new WebhookPruneResult(DeliveredMessages: 0, UndeliveredMessages: 1, PendingEvents: 1), result);
        var (messages, deliveries, events) = await BacklogAsync(disabled);
        Assert.Equal((0, 0), (messages, deliveries));
        Assert.Equal(["""{"pending": "recent"}"""], events);
        var kept = await BacklogAsync(enabled);
        Assert.Equal((1, 1, 3), (kept.Messages, kept.Deliveries, kept.Events.Count));

        // Run again: nothing more to prune.
        Assert.Equal(new WebhookPruneResult(0, 0, 0), await scope.ServiceProvider.GetRequiredService<WebhookJobs>().PruneAsync(CancellationToken.None));
    }
}
