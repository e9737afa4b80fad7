using Crm.Jobs.Data;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Webhooks;

// In every process with job servers: dispatches when a transaction that wrote events commits
// (the triggers NOTIFY crm_webhooks, delivered at commit) and every Crm:Webhooks:PollInterval
// as a fallback, so a missed notification delays delivery by one interval at most.
public sealed class WebhookDispatcher(
    IConfiguration configuration, WebhookDispatch dispatch, IOptions<WebhookOptions> options, ILogger<WebhookDispatcher> logger)
    : BackgroundService
{
    public const string Channel = "crm_webhooks";

    // Wakes the dispatcher; inside a transaction, delivered at its commit.
    public const string NotifySql = $"SELECT pg_notify('{Channel}', '')";

    // The enabled subscriptions (alias w) that want an event of this type (an SQL expression),
    // by name or by "*": for writers that queue events themselves (the triggers in Data/Sql/
    // match the same way).
    public static string WantsSql(string typeSql) =>
        $"w.enabled AND (w.events @> ARRAY[{typeSql}]::text[] OR w.events @> ARRAY['{WebhookEventTypes.All}']::text[])";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Its own unpooled connection: a LISTEN belongs to a session.
        await using var listenSource = SessionLocks.CreateDataSource(CrmJobsExtensions.FailFast(configuration.GetConnectionString("Crm")!));
        var interval = options.Value.PollInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await listenSource.OpenConnectionAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                while (true)
                {
                    await dispatch.DispatchAllAsync(stoppingToken);
                    await connection.WaitAsync(interval, stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The database is away: the events wait in the outbox; try again after an interval.
                logger.LogWarning(e, "Webhook dispatch failed; retrying in {Interval}", interval);
                await Task.Delay(interval, stoppingToken);
            }
        }
    }
}
