using Crm.Api.Auth;
using Crm.Api.Infrastructure;
using Crm.Api.JobStatus;
using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Crm.Jobs.Sync;
using FluentValidation;
using Hangfire;
using Hangfire.States;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Sync;

public static class SyncEndpoints
{
    public static RouteGroupBuilder MapSync(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/sync")
            .WithTags("Sync")
            .AddEndpointFilterFactory(ValidationFilter.Create)
            .ProducesValidationProblem();

        group.MapPost("/", StartSync).WithName("StartSync")
            .WithSummary("Enqueue a full sync (default, force or statsOnly); the same mode already waiting or running is returned instead");
        group.MapGet("/runs", ListRuns).WithName("ListSyncRuns").WithSummary("Sync history with counts, newest first");
        group.MapGet("/runs/{id}/changes", ListRunChanges).WithName("ListSyncRunChanges")
            .WithSummary("The changes a sync run made to customers (the ledger), in the order they were written");
        group.MapPost("/runs/{id}/revert", RevertRun).WithName("RevertSyncRun")
            .WithSummary("Enqueue the revert of a sync run: its contact-field changes are put back where nobody changed them since (admin)")
            .WithMetadata(new AuthorizeAttribute { Roles = CrmRoles.Admin })
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/errors", ListErrors).WithName("ListSyncErrors")
            .WithSummary("Customers the database refused to write (skipped by their syncs, retried on their own), latest failure first");
        return group;
    }

    private static async Task<Accepted<JobAccepted>> StartSync(SyncRequest request, SyncScheduler scheduler, CancellationToken ct) =>
        JobAccepted.For(await scheduler.EnqueueFullSyncAsync(request.Mode!.Value, ct, request.DryRun));

    private static async Task<Results<Ok<PagedResponse<RunChangeResponse>>, NotFound>> ListRunChanges(
        long id, [AsParameters] RunChangesQuery query, CrmDbContext db, CancellationToken ct)
    {
        if (!await db.SyncRuns.AnyAsync(r => r.Id == id, ct))
            return TypedResults.NotFound();
        var changes = db.CustomerChanges.AsNoTracking().Where(c => c.RunId == id);
        if (query.Field is not null)
            changes = changes.Where(c => c.Field == query.Field);
        var page = await changes.ToPageAsync(db, query, c => c.OrderBy(x => x.Id),
            c => new { c.Id, c.CustomerId, c.Field, c.OldValue, c.NewValue, c.Reason, c.ChangedAt, c.Source, c.RunId }, ct);
        return TypedResults.Ok(new PagedResponse<RunChangeResponse>(
            page.Items.Select(c => new RunChangeResponse(c.Id, c.CustomerId, c.Field, ChangeLedger.Json(c.OldValue),
                ChangeLedger.Json(c.NewValue), ChangeLedger.Json(c.Reason), c.ChangedAt, c.Source, c.RunId)).ToList(),
            page.Page, page.PageSize, page.TotalCount, page.TotalCountExact));
    }

    // The run row is locked while the job is enqueued, so two requests cannot both revert it.
    private static async Task<Results<Accepted<JobAccepted>, ProblemHttpResult>> RevertRun(
        long id, CrmDbContext db, SyncScheduler scheduler, JobStorage storage, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var run = await db.SyncRuns.FromSql($"SELECT * FROM sync_runs WHERE id = {id} FOR UPDATE").FirstOrDefaultAsync(ct);
        if (run is null)
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such sync run",
                detail: $"Sync run {id} does not exist (or was pruned with its changes).");
        string? conflict = run switch
        {
            { DryRun: true } => "It is a dry run: it changed nothing.",
            { RevertedAt: not null } => $"It was already reverted by job {run.RevertJobId}.",
            // A revert job that failed for good (or was deleted) may be asked for again.
            { RevertJobId: { } job } when await RevertUnfinishedAsync(storage, job, ct) => $"It is being reverted by job {job}.",
            { Status: SyncRunStatus.Running } => "It is still running; revert it once it has finished.",
            _ => null,
        };
        if (conflict is not null)
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "This sync run cannot be reverted",
                detail: conflict, extensions: new Dictionary<string, object?> { ["runId"] = id });

        var jobId = scheduler.EnqueueRevert(id);
        run.RevertJobId = jobId;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return JobAccepted.For(jobId);
    }

    private static async Task<bool> RevertUnfinishedAsync(JobStorage storage, string jobId, CancellationToken ct)
    {
        var job = await JobsEndpoints.ReadAsync(storage, jobId, ct);
        var state = job?.StateName;
        return state is not null && state != FailedState.StateName && state != DeletedState.StateName;
    }

    private static async Task<Ok<PagedResponse<SyncRunResponse>>> ListRuns(
        [AsParameters] PageQuery query, CrmDbContext db, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var page = await db.SyncRuns.AsNoTracking().ToPageAsync(db, query,
            runs => runs.OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id),
            r => new
            {
                r.Id, r.JobId, r.Mode, r.Status, r.StartedAt, r.FinishedAt,
                r.CreatedCount, r.UpdatedCount, r.UnchangedCount, r.SkippedCount, r.ErrorCount,
                r.TotalCustomers, r.DurationMs, r.Error, r.DryRun, r.Changes, r.RevertJobId, r.RevertedAt
            },
            ct);
        // Only jobs Hangfire still stores get a statusUrl: an expired job's would be a 404.
        var stored = await SyncRuns.StoredJobIdsAsync(dataSource, page.Items.Select(r => r.JobId), ct);
        return TypedResults.Ok(new PagedResponse<SyncRunResponse>(
            page.Items.Select(r => new SyncRunResponse(r.Id, r.JobId, r.Mode, r.Status, r.StartedAt, r.FinishedAt,
                r.CreatedCount, r.UpdatedCount, r.UnchangedCount, r.SkippedCount, r.ErrorCount,
                r.TotalCustomers, r.DurationMs, r.Error,
                stored.Contains(r.JobId ?? "") ? $"/api/jobs/{r.JobId}" : null,
                r.DryRun, ChangeLedger.Json(r.Changes),
                // A dry run's changes were rolled back with it: its counts are all there is.
                r.DryRun ? null : $"/api/sync/runs/{r.Id}/changes", r.RevertJobId, r.RevertedAt)).ToList(),
            page.Page, page.PageSize, page.TotalCount, page.TotalCountExact));
    }

    private static async Task<Ok<PagedResponse<SyncErrorResponse>>> ListErrors(
        [AsParameters] PageQuery query, CrmDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.SyncErrors.AsNoTracking().ToPageAsync(db, query,
            errors => errors.OrderByDescending(e => e.LastFailedAt).ThenBy(e => e.Phone),
            e => new SyncErrorResponse(e.Phone, e.SqlState, e.Error, e.RunId, e.Attempts, e.FirstFailedAt, e.LastFailedAt, e.RetryAt),
            ct));
}
