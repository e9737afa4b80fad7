using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.JobStatus;

// A job as GET /api/jobs/{id} and the routes that wait for one (the original routes, a
// revert's conflict check) read it: Hangfire's stored job and, for a sync, its run's counts.
public sealed class JobQueries(JobStorage storage, CrmDbContext db)
{
    // Hangfire's storage API is synchronous: it runs on a pool thread, not the request's.
    // Its connection is opened and closed within the read.
    public Task<StoredJob?> ReadAsync(string jobId, CancellationToken ct) =>
        Task.Run(() => ReadJob(jobId), ct);

    // The counts of a sync job that succeeded, from its run row; null for other jobs. A dry
    // run's job reports what it returned (its changes and sample are in no row).
    public Task<SyncCounts?> SyncCountsAsync(string jobId, CancellationToken ct) =>
        db.SyncRuns.AsNoTracking()
            .Where(r => r.JobId == jobId && r.Status == SyncRunStatus.Succeeded && !r.DryRun)
            .OrderByDescending(r => r.Id)
            .Select(r => new SyncCounts(r.CreatedCount, r.UpdatedCount, r.UnchangedCount, r.SkippedCount,
                r.ErrorCount, r.TotalCustomers, r.DurationMs, r.Id))
            .FirstOrDefaultAsync(ct);

    private StoredJob? ReadJob(string jobId)
    {
        using var connection = storage.GetConnection();
        var job = connection.GetJobData(jobId);
        if (job is null)
            return null;
        var retryCount = int.TryParse(connection.GetJobParameter(jobId, "RetryCount"), out var retries) ? retries : 0;
        return new StoredJob(job, connection.GetStateData(jobId), retryCount);
    }
}
