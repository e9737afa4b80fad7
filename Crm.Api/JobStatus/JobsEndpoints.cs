using System.Text.Json.Nodes;
using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.JobStatus;

public sealed record JobStatusResponse(
    string JobId, string State, DateTime? CreatedAt, int RetryCount, string? Reason, object? Result);

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

        // Hangfire's storage API is synchronous: it runs on a pool thread, not the request's.
        var stored = await Task.Run(() => ReadJob(storage, jobId), ct);
        if (stored is null)
            return TypedResults.NotFound();

        var (job, state, retryCount) = stored;
        var reason = state?.Name == FailedState.StateName && state.Data.TryGetValue("ExceptionMessage", out var message)
            ? $"{state.Reason}: {message}".TrimStart(':', ' ')
            : state?.Reason;

        object? result = null;
        if (state?.Name == SucceededState.StateName)
        {
            // A sync's counts come from its run row; other jobs report what they returned.
            result = await db.SyncRuns.AsNoTracking()
                .Where(r => r.JobId == jobId && r.Status == SyncRunStatus.Succeeded)
                .OrderByDescending(r => r.Id)
                .Select(r => new SyncCounts(r.CreatedCount, r.UpdatedCount, r.UnchangedCount, r.SkippedCount,
                    r.ErrorCount, r.TotalCustomers, r.DurationMs))
                .FirstOrDefaultAsync(ct);
            if (result is null && state.Data.TryGetValue("Result", out var returned) && !string.IsNullOrEmpty(returned))
                result = JsonNode.Parse(returned);
        }

        var createdAt = job.CreatedAt == default ? (DateTime?)null : DateTime.SpecifyKind(job.CreatedAt, DateTimeKind.Utc);
        return TypedResults.Ok(new JobStatusResponse(jobId, state?.Name ?? job.State, createdAt, retryCount, reason, result));
    }

    private sealed record StoredJob(JobData Job, StateData? State, int RetryCount);

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
