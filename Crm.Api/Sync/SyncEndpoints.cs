using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Sync;

public sealed record SyncRequest(SyncMode? Mode);

public sealed record SyncRunResponse(
    long Id, string? JobId, SyncMode Mode, SyncRunStatus Status, DateTime StartedAt, DateTime? FinishedAt,
    int CreatedCount, int UpdatedCount, int UnchangedCount, int SkippedCount, int ErrorCount,
    int TotalCustomers, long DurationMs, string? Error, string? StatusUrl);

public sealed record SyncErrorResponse(
    string Phone, string SqlState, string Error, long? RunId, int Attempts,
    DateTime FirstFailedAt, DateTime LastFailedAt, DateTime RetryAt);

public sealed class SyncRequestValidator : AbstractValidator<SyncRequest>
{
    public SyncRequestValidator() =>
        RuleFor(r => r.Mode)
            .NotNull().Must(m => m is SyncMode.Default or SyncMode.Force or SyncMode.StatsOnly)
            .WithMessage("Mode must be one of: default, force, statsOnly.");
}

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
        group.MapGet("/errors", ListErrors).WithName("ListSyncErrors")
            .WithSummary("Customers the database refused to write (skipped by their syncs, retried on their own), latest failure first");
        return group;
    }

    private static async Task<Accepted<JobAccepted>> StartSync(SyncRequest request, SyncScheduler scheduler, CancellationToken ct) =>
        JobAccepted.For(await scheduler.EnqueueFullSyncAsync(request.Mode!.Value, ct));

    private static async Task<Ok<PagedResponse<SyncRunResponse>>> ListRuns(
        [AsParameters] PageQuery query, CrmDbContext db, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        var page = await db.SyncRuns.AsNoTracking().ToPageAsync(db, query,
            runs => runs.OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id),
            r => new SyncRunResponse(r.Id, r.JobId, r.Mode, r.Status, r.StartedAt, r.FinishedAt,
                r.CreatedCount, r.UpdatedCount, r.UnchangedCount, r.SkippedCount, r.ErrorCount,
                r.TotalCustomers, r.DurationMs, r.Error, null),
            ct);
        // Only jobs Hangfire still stores get a statusUrl: an expired job's would be a 404.
        var stored = await SyncRuns.StoredJobIdsAsync(dataSource, page.Items.Select(r => r.JobId), ct);
        return TypedResults.Ok(page with
        {
            Items = page.Items.Select(r => r with { StatusUrl = stored.Contains(r.JobId ?? "") ? $"/api/jobs/{r.JobId}" : null }).ToList(),
        });
    }

    private static async Task<Ok<PagedResponse<SyncErrorResponse>>> ListErrors(
        [AsParameters] PageQuery query, CrmDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.SyncErrors.AsNoTracking().ToPageAsync(db, query,
            errors => errors.OrderByDescending(e => e.LastFailedAt).ThenBy(e => e.Phone),
            e => new SyncErrorResponse(e.Phone, e.SqlState, e.Error, e.RunId, e.Attempts, e.FirstFailedAt, e.LastFailedAt, e.RetryAt),
            ct));
}
