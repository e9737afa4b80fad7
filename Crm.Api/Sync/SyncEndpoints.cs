using Crm.Api.Auth;
using Crm.Api.Infrastructure;
using Crm.Api.JobStatus;
using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using FluentValidation;
using Hangfire.States;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

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
        long id, [AsParameters] RunChangesQuery query, SyncQueries queries, CancellationToken ct) =>
        await queries.ChangesAsync(id, query, ct) is { } page ? TypedResults.Ok(page) : TypedResults.NotFound();

    // The run row is locked while the job is enqueued, so two requests cannot both revert it.
    private static async Task<Results<Accepted<JobAccepted>, ProblemHttpResult>> RevertRun(
        long id, CrmDbContext db, SyncScheduler scheduler, JobQueries jobs, CancellationToken ct)
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
            { RevertJobId: { } job } when await RevertUnfinishedAsync(jobs, job, ct) => $"It is being reverted by job {job}.",
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

    private static async Task<bool> RevertUnfinishedAsync(JobQueries jobs, string jobId, CancellationToken ct)
    {
        var job = await jobs.ReadAsync(jobId, ct);
        var state = job?.StateName;
        return state is not null && state != FailedState.StateName && state != DeletedState.StateName;
    }

    private static async Task<Ok<PagedResponse<SyncRunResponse>>> ListRuns(
        [AsParameters] PageQuery query, SyncQueries queries, CancellationToken ct) =>
        TypedResults.Ok(await queries.RunsAsync(query, ct));

    private static async Task<Ok<PagedResponse<SyncErrorResponse>>> ListErrors(
        [AsParameters] PageQuery query, SyncQueries queries, CancellationToken ct) =>
        TypedResults.Ok(await queries.ErrorsAsync(query, ct));
}
