using System.Text.Json.Nodes;
using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using Hangfire;
using Hangfire.States;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.JobStatus;

public static class JobsEndpoints
{
    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/jobs").WithTags("Jobs");
        group.MapGet("/{jobId}", GetJob).WithName("GetJob")
            .WithSummary("A job's state, retries and, once it succeeded, its result (a sync's counts)");
        return group;
    }

    private static async Task<Results<Ok<JobStatusResponse>, NotFound>> GetJob(
        string jobId, JobStorage storage, CrmDbContext db, CancellationToken ct)
    {
        // Hangfire's PostgreSQL ids are numbers; anything else cannot be a job.
        if (!long.TryParse(jobId, out _))
            return TypedResults.NotFound();

        var stored = await ReadAsync(storage, jobId, ct);
        if (stored is null)
            return TypedResults.NotFound();

        object? result = null;
        if (stored.StateName == SucceededState.StateName)
        {
            // A sync's counts come from its run row; other jobs report what they returned.
            result = await SyncCountsAsync(db, jobId, ct);
            if (result is null && stored.State?.Data.TryGetValue("Result", out var returned) == true && !string.IsNullOrEmpty(returned))
                result = JsonNode.Parse(returned);
        }

        var job = stored.Job;
        var createdAt = job.CreatedAt == default ? (DateTime?)null : DateTime.SpecifyKind(job.CreatedAt, DateTimeKind.Utc);
        return TypedResults.Ok(new JobStatusResponse(jobId, stored.StateName, createdAt, stored.RetryCount, stored.Reason, result));
    }

    // Hangfire's storage API is synchronous: it runs on a pool thread, not the request's.
    // Its connection is opened and closed within the read.
    public static Task<StoredJob?> ReadAsync(JobStorage storage, string jobId, CancellationToken ct) =>
        Task.Run(() => ReadJob(storage, jobId), ct);

    // The counts of a sync job that succeeded, from its run row; null for other jobs. A dry
    // run's job reports what it returned (its changes and sample are in no row).
    public static Task<SyncCounts?> SyncCountsAsync(CrmDbContext db, string jobId, CancellationToken ct) =>
        db.SyncRuns.AsNoTracking()
            .Where(r => r.JobId == jobId && r.Status == SyncRunStatus.Succeeded && !r.DryRun)
            .OrderByDescending(r => r.Id)
            .Select(r => new SyncCounts(r.CreatedCount, r.UpdatedCount, r.UnchangedCount, r.SkippedCount,
                r.ErrorCount, r.TotalCustomers, r.DurationMs))
            .FirstOrDefaultAsync(ct);

    private static StoredJob? ReadJob(JobStorage storage, string jobId)
    {
        using var connection = storage.GetConnection();
        var job = connection.GetJobData(jobId);
        if (job is null)
            return null;
        var retryCount = int.TryParse(connection.GetJobParameter(jobId, "RetryCount"), out var retries) ? retries : 0;
        return new StoredJob(job, connection.GetStateData(jobId), retryCount);
    }
}
