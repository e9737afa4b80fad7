using Crm.Jobs.Categories;
using Crm.Jobs.Sync;
using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Crm.Jobs.Hosting;

// Keeps the recurring jobs in storage in line with configuration at every start.
public sealed class RecurringJobs(
    IRecurringJobManager manager, IOptions<CategoryOptions> categories, IOptions<SyncOptions> sync) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var categoryOptions = categories.Value;
        var timeZone = TimeZoneInfo.TryFindSystemTimeZoneById(categoryOptions.TimeZone, out var zone)
            ? zone
            : throw new InvalidOperationException($"Crm:Categories:TimeZone '{categoryOptions.TimeZone}' is not a known time zone.");

        Register("Crm:Categories:RecalculateCron", categoryOptions.RecalculateCron, () => manager.AddOrUpdate<RecalculateCategoriesJob>(
            RecalculateCategoriesJob.RecurringJobId,
            job => job.RunAsync(CancellationToken.None),
            categoryOptions.RecalculateCron,
            new RecurringJobOptions { TimeZone = timeZone }));

        var cron = sync.Value.Cron;
        if (string.IsNullOrWhiteSpace(cron))
            manager.RemoveIfExists(SyncJobs.DefaultSyncRecurringJobId);
        else
            Register("Crm:Sync:Cron", cron, () => manager.AddOrUpdate<SyncJobs>(
                SyncJobs.DefaultSyncRecurringJobId, job => job.FullSyncAsync(SyncMode.Default, null, CancellationToken.None), cron));

        var pendingCron = sync.Value.PendingCron;
        if (string.IsNullOrWhiteSpace(pendingCron))
            manager.RemoveIfExists(SyncJobs.PendingSyncRecurringJobId);
        else
            Register("Crm:Sync:PendingCron", pendingCron, () => manager.AddOrUpdate<SyncJobs>(
                SyncJobs.PendingSyncRecurringJobId, job => job.SweepPendingAsync(null, CancellationToken.None), pendingCron));
        return Task.CompletedTask;
    }

    // Hangfire parses the cron expression; say which setting holds the bad one.
    private static void Register(string key, string cron, Action register)
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

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
