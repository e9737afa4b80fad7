using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Hosting;

// The gauges that are figures of the whole database, not of a process: crm_customers and the
// webhook backlog (crm_webhook_pending_events, crm_webhook_oldest_pending_age). If every
// process published them, a sum over instances would multiply them. Processes with job servers
// compete for a session advisory lock; the holder counts every Crm:Jobs:CustomerCountInterval
// and alone publishes the gauges, so a scrape never queries the database. When the holder stops
// or dies, its session and the lock go with it, and another process takes over within one
// interval.
public sealed class GaugePublisher(
    IConfiguration configuration, CrmMetrics metrics, IOptions<JobsOptions> options, ILogger<GaugePublisher> logger)
    : BackgroundService
{
    public const long PublisherLockKey = AdvisoryLockKeys.CustomerCountPublisher;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var dataSource = SessionLocks.CreateDataSource(CrmJobsExtensions.FailFast(configuration.GetConnectionString("Crm")!));
        var interval = options.Value.CustomerCountInterval;
        using var timer = new PeriodicTimer(interval);
        NpgsqlConnection? publisher = null;
        try
        {
            do
            {
                try
                {
                    publisher ??= await SessionLocks.TryOpenHolderAsync(dataSource, PublisherLockKey, stoppingToken);
                    metrics.CustomersCounted(publisher is null ? null : await CountAsync(publisher, stoppingToken));
                    metrics.WebhookBacklogCounted(publisher is null ? null : await WebhookBacklogAsync(publisher, stoppingToken));
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The database is away (readiness says so): publish nothing rather than a stale count.
                    logger.LogWarning(e, "Could not count customers and the webhook backlog for their gauges; trying again in {Interval}", interval);
                    metrics.CustomersCounted(null);
                    metrics.WebhookBacklogCounted(null);
                    await CloseAsync(publisher);
                    publisher = null;
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        finally
        {
            metrics.CustomersCounted(null);
            metrics.WebhookBacklogCounted(null);
            await CloseAsync(publisher);
        }
    }

    private static async Task<Dictionary<CustomerCategory, long>> CountAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT category, count(*) FROM customers GROUP BY category", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var counts = new Dictionary<CustomerCategory, long>();
        while (await reader.ReadAsync(ct))
            counts[EnumText.Parse<CustomerCategory>(reader.GetString(0))] = reader.GetInt64(1);
        return counts;
    }

    private static async Task<WebhookBacklog> WebhookBacklogAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"SELECT b.events, now() - b.oldest FROM ({WebhookBacklogSql.Select}) b", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new WebhookBacklog(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetTimeSpan(1));
    }

    private static ValueTask CloseAsync(NpgsqlConnection? connection) => connection?.DisposeAsync() ?? ValueTask.CompletedTask;
}
