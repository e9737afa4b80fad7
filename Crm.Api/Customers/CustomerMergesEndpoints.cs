using Crm.Api.Auth;
using Crm.Api.Infrastructure;
using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Api.Customers;

// Merging customers that are one person, and undoing it (docs/API.md, "Merging customers").
public static class CustomerMergesEndpoints
{
    public static RouteGroupBuilder MapCustomerMerges(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/customers")
            .WithTags("Customers")
            .AddEndpointFilterFactory(ValidationFilter.Create)
            .ProducesValidationProblem();

        group.MapPost("/merge/preview", Preview).WithName("PreviewCustomerMerge")
            .WithSummary("What merging the sources into the target would make: phones, contact fields and where each comes from, " +
                         "statistics, category with its reason, conflicting fields; writes nothing")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/merge", Merge).WithName("MergeCustomers")
            .WithSummary("Merge the sources into the target: their phones and notes move to it, they are deleted, it is recomputed")
            .WithDescription("Undone by POST /api/customers/merges/{mergeId}/unmerge. 409 when a source was merged already.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/duplicates", ListDuplicates).WithName("ListCustomerDuplicates")
            .WithSummary("Likely pairs of one person's customers: the same e-mail, or the same name and city; paged");
        group.MapGet("/merges", ListMerges).WithName("ListCustomerMerges").WithSummary("Merges, newest first");
        group.MapPost("/merges/{mergeId}/unmerge", Unmerge).WithName("UnmergeCustomers")
            .WithSummary("Undo a merge: each source comes back with its id, fields, notes and phones; both sides are recomputed")
            .WithDescription("409 when a later merge involves the same customers (undo that one first), or when the ledger no longer holds the merge's values.")
            .WithMetadata(new AuthorizeAttribute { Roles = CrmRoles.Admin })
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<Results<Ok<MergePreviewResponse>, ProblemHttpResult>> Preview(
        MergeRequest request, CrmDbContext db, NpgsqlDataSource dataSource, IOptions<CategoryOptions> categories,
        IOptions<SyncOptions> sync, TimeProvider clock, CancellationToken ct)
    {
        var (preview, missing) = await MergePreview.ReadAsync(db, dataSource, request.TargetId!.Value, request.SourceIds!,
            categories.Value, sync.Value, clock.GetUtcNow().UtcDateTime, ct);
        return preview is not null ? TypedResults.Ok(preview) : CustomerMerger.NotFound(missing);
    }

    private static Task<Results<Accepted<MergeAccepted>, ProblemHttpResult>> Merge(
        MergeRequest request, HttpContext http, CrmDbContext db, SyncScheduler scheduler, IOptions<SyncOptions> sync,
        TimeProvider clock, CancellationToken ct) =>
        CustomerMerger.MergeAsync(db, scheduler, request.TargetId!.Value, request.SourceIds!, ChangeSource(http), sync.Value,
            clock.GetUtcNow().UtcDateTime, ct);

    private static async Task<Ok<PagedResponse<DuplicatePair>>> ListDuplicates(
        [AsParameters] PageQuery query, CrmDbContext db, NpgsqlDataSource dataSource, IOptions<SyncOptions> sync, CancellationToken ct) =>
        TypedResults.Ok(await CustomerDuplicates.ReadAsync(db, dataSource, query, sync.Value.PlaceholderName, ct));

    private static async Task<Ok<PagedResponse<CustomerMergeResponse>>> ListMerges(
        [AsParameters] PageQuery query, CrmDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.CustomerMerges.AsNoTracking().ToPageAsync(db, query, m => m.OrderByDescending(x => x.Id),
            m => new CustomerMergeResponse(m.Id, m.TargetId, m.SourceIds, m.MergedAt, m.MergedBy, m.UnmergedAt, m.UnmergedBy), ct));

    private static Task<Results<Accepted<MergeAccepted>, NotFound, ProblemHttpResult>> Unmerge(
        long mergeId, HttpContext http, CrmDbContext db, SyncScheduler scheduler, TimeProvider clock, CancellationToken ct) =>
        CustomerMerger.UnmergeAsync(db, scheduler, mergeId, ChangeSource(http), clock.GetUtcNow().UtcDateTime, ct);

    private static string ChangeSource(HttpContext http) => Caller.ChangeSourceOf(http.User);
}
