using Crm.Jobs.Categories;
using Crm.Jobs.Ledger;
using Crm.Jobs.Sync;
using Crm.Jobs.Webhooks;
using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Crm.Jobs.Hosting;

// Keeps the recurring jobs in storage in line with configuration at every start. In the
// background and retried, so a process that starts while the database is down still comes
// up (not ready) and registers them once the database is back.
public sealed class RecurringJobs(
    IRecurringJobManager manager, IOptions<CategoryOptions> categories, IOptions<SyncOptions> sync, IOptions<LedgerOptions> ledger,
    IOptions<WebhookOptions> webhooks, ILogger<RecurringJobs> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var delay = TimeSpan.FromSeconds(1); !stoppingToken.IsCancellationRequested; delay = Min(delay * 2, TimeSpan.FromMinutes(1)))
        {
            try
            {
                Register();
                return;
            }
            catch (Exception e) when (e is not InvalidOperationException)
            {
                logger.LogError(e, "Could not register the recurring jobs; retrying in {Delay}", delay);
            }
            await Task.Delay(delay, stoppingToken);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    public void Register()
    {
        var categoryOptions = categories.Value;
        var timeZone = TimeZoneInfo.TryFindSystemTimeZoneById(categoryOptions.TimeZone, out var zone)
            ? zone
            : throw new InvalidOperationException($"Crm:Categories:TimeZone '{categoryOptions.TimeZone}' is not a known time zone.");

        AddChecked("Crm:Categories:RecalculateCron", categoryOptions.RecalculateCron, () => manager.AddOrUpdate<RecalculateCategoriesJob>(
            RecalculateCategoriesJob.RecurringJobId,
            job => job.RunAsync(CancellationToken.None),
            categoryOptions.RecalculateCron,
            new RecurringJobOptions { TimeZone = timeZone }));

        var cron = sync.Value.Cron;
        if (string.IsNullOrWhiteSpace(cron))
            manager.RemoveIfExists(SyncJobs.DefaultSyncRecurringJobId);
        else
            AddChecked("Crm:Sync:Cron", cron, () => manager.AddOrUpdate<SyncJobs>(
                SyncJobs.DefaultSyncRecurringJobId, job => job.QueueFullSyncAsync(SyncMode.Default, CancellationToken.None), cron));

        var pendingCron = sync.Value.PendingCron;
        if (string.IsNullOrWhiteSpace(pendingCron))
            manager.RemoveIfExists(SyncJobs.PendingSyncRecurringJobId);
        else
            AddChecked("Crm:Sync:PendingCron", pendingCron, () => manager.AddOrUpdate<SyncJobs>(
                SyncJobs.PendingSyncRecurringJobId, job => job.SweepPendingAsync(null, CancellationToken.None), pendingCron));

        var pruneCron = sync.Value.RunPruneCron;
        if (string.IsNullOrWhiteSpace(pruneCron))
            manager.RemoveIfExists(SyncJobs.PruneRunsRecurringJobId);
        else
            AddChecked("Crm:Sync:RunPruneCron", pruneCron, () => manager.AddOrUpdate<SyncJobs>(
                SyncJobs.PruneRunsRecurringJobId, job => job.PruneRunsAsync(CancellationToken.None), pruneCron));

        var ledgerCron = ledger.Value.PruneCron;
        if (string.IsNullOrWhiteSpace(ledgerCron))
            manager.RemoveIfExists(LedgerJobs.PruneRecurringJobId);
        else
            AddChecked("Crm:Ledger:PruneCron", ledgerCron, () => manager.AddOrUpdate<LedgerJobs>(
                LedgerJobs.PruneRecurringJobId, job => job.PruneAsync(CancellationToken.None), ledgerCron));

        var webhookCron = webhooks.Value.PruneCron;
        if (string.IsNullOrWhiteSpace(webhookCron))
            manager.RemoveIfExists(WebhookJobs.PruneRecurringJobId);
        else
            AddChecked("Crm:Webhooks:PruneCron", webhookCron, () => manager.AddOrUpdate<WebhookJobs>(
                WebhookJobs.PruneRecurringJobId, job => job.PruneAsync(CancellationToken.None), webhookCron));
    }

    // Hangfire parses the cron expression; say which setting holds the bad one.
    private static void AddChecked(string key, string cron, Action register)
    {
        try
        {
            register();
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"{key} '{cron}' is not a valid cron expression.", e);
        }
    }
}
