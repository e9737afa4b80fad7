using System.Linq.Expressions;
using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Crm.Jobs.Webhooks;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Webhooks;

// Subscriptions as they are read: GET /api/webhooks and /api/webhooks/{id} answer them, the
// dashboard's Webhooks card renders the overview (the backlog and the failing subscriptions).
public sealed class WebhookQueries(CrmDbContext db, NpgsqlDataSource dataSource)
{
    // A subscription as the API and the dashboard show it, with its pending events (those not
    // yet in a message and those of its undelivered message, both from partial indexes); never
    // the secret.
    private Expression<Func<Webhook, WebhookSubscription>> Shown => w => new WebhookSubscription(
        w.Id, w.Url, w.Events, w.Description, w.Enabled, w.DisabledReason, w.FailingSince, w.LastError,
        db.WebhookEvents.Count(e => e.WebhookId == w.Id && e.MessageId == null)
            + (db.WebhookMessages.Where(m => m.WebhookId == w.Id && m.DeliveredAt == null).Sum(m => (long?)m.EventCount) ?? 0),
        w.PreviousSecretExpiresAt, w.CreatedAt, w.UpdatedAt, $"/api/webhooks/{w.Id}/deliveries");

    public Task<WebhookSubscription?> FindAsync(long id, CancellationToken ct) =>
        db.Webhooks.AsNoTracking().Where(w => w.Id == id).Select(Shown).FirstOrDefaultAsync(ct);

    public Task<PagedResponse<WebhookSubscription>> ListAsync(IPageQuery query, CancellationToken ct) =>
        db.Webhooks.AsNoTracking().ToPageAsync(db, query, w => w.OrderBy(x => x.Id), Shown, ct);

    // The subscriptions counted (a small table) beside the outbox's backlog, the gauges' own
    // query (WebhookBacklogSql). One row.
    private const string CountsSql = $"""
        SELECT w.total, w.enabled, w.failing, b.events, b.oldest
        FROM (SELECT count(*) AS total, count(*) FILTER (WHERE enabled) AS enabled,
                     count(*) FILTER (WHERE failing_since IS NOT NULL OR (NOT enabled AND disabled_reason IS NOT NULL)) AS failing
              FROM webhooks) w,
             ({WebhookBacklogSql.Select}) b
        """;

    // What waits to be delivered, and the subscriptions whose deliveries fail (or failed long
    // enough to be disabled), the longest failing first (PostgreSQL sorts NULLs last).
    public async Task<WebhookOverview> OverviewAsync(int failingShown, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var counts = (await connection.QueryAsync(CountsSql, null,
            r => (Total: r.GetInt64(0), Enabled: r.GetInt64(1), Failing: r.GetInt64(2), Pending: r.GetInt64(3),
                Oldest: r.IsDBNull(4) ? (DateTime?)null : r.GetDateTime(4)), ct)).Single();
        var failing = counts.Failing == 0 ? [] : await db.Webhooks.AsNoTracking()
            .Where(w => w.FailingSince != null || (!w.Enabled && w.DisabledReason != null))
            .OrderBy(w => w.FailingSince).ThenBy(w => w.Id)
            .Take(failingShown).Select(Shown).ToListAsync(ct);
        return new WebhookOverview(counts.Total, counts.Enabled, counts.Failing, counts.Pending, counts.Oldest, failing);
    }
}
