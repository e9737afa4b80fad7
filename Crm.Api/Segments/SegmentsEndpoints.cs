using Crm.Api.Auth;
using Crm.Api.Customers;
using Crm.Api.Infrastructure;
using Crm.Api.Reads;
using Crm.Jobs.Data;
using Crm.Jobs.Phones;
using Crm.Jobs.Segments;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Segments;

// Saved segments: a name for a filter of GET /api/customers, applied anew on every read, so
// the count and the customers follow the data (docs/API.md "Saved segments").
public static class SegmentsEndpoints
{
    public static RouteGroupBuilder MapSegments(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/segments")
            .WithTags("Segments")
            .AddEndpointFilterFactory(ValidationFilter.Create)
            .ProducesValidationProblem();

        group.MapPost("/", CreateSegment).WithName("CreateSegment").WithSummary("Save a filter of GET /api/customers under a name")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/", ListSegments).WithName("ListSegments").WithSummary("The saved segments by name, each with its current count");
        group.MapGet("/{id}", GetSegment).WithName("GetSegment").WithSummary("One saved segment with its current count");
        group.MapGet("/{id}/customers", ListSegmentCustomers).WithName("ListSegmentCustomers")
            .WithSummary("A segment's customers now: paged and ordered as GET /api/customers");
        // Deleting a segment deletes a saved filter, no customer data: an operator's business.
        group.MapDelete("/{id}", DeleteSegment).WithName("DeleteSegment").WithSummary("Delete a saved segment")
            .WithMetadata(new AuthorizeAttribute { Roles = CrmRoles.Operator });
        return group;
    }

    private static async Task<Results<Created<SegmentResponse>, ProblemHttpResult>> CreateSegment(
        SegmentRequest request, HttpContext http, CrmDbContext db, PhoneNormalizer phones, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var filter = request.Filter!;
        var segment = new Segment
        {
            Name = request.Name!.Trim(),
            Filter = filter.ToJson(),
            CreatedAt = now,
            CreatedBy = Caller.NameOf(http.User),
        };
        db.Segments.Add(segment);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException
        { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "ix_segments_name_folded" })
        {
            // The unique index decides between racing creates; no check-then-insert.
            db.ChangeTracker.Clear();
            return await NameTakenAsync(db, segment.Name, ct);
        }
        return TypedResults.Created($"/api/segments/{segment.Id}", await ResponseAsync(db, segment, phones, now, ct));
    }

    private static async Task<Ok<PagedResponse<SegmentResponse>>> ListSegments(
        [AsParameters] PageQuery query, [FromKeyedServices(ReadSource.Key)] CrmDbContext db, PhoneNormalizer phones, TimeProvider clock,
        CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var page = await db.Segments.AsNoTracking().ToPageAsync(db, query, s => s.OrderBy(x => x.Name).ThenBy(x => x.Id), s => s, ct);
        // One count per segment of the page, one after the other on the request's connection.
        var items = new List<SegmentResponse>(page.Items.Count);
        foreach (var segment in page.Items)
            items.Add(await ResponseAsync(db, segment, phones, now, ct));
        return TypedResults.Ok(new PagedResponse<SegmentResponse>(items, page.Page, page.PageSize, page.TotalCount, page.TotalCountExact));
    }

    private static async Task<Results<Ok<SegmentResponse>, NotFound>> GetSegment(
        long id, [FromKeyedServices(ReadSource.Key)] CrmDbContext db, PhoneNormalizer phones, TimeProvider clock, CancellationToken ct)
    {
        var segment = await db.Segments.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct);
        return segment is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(await ResponseAsync(db, segment, phones, clock.GetUtcNow().UtcDateTime, ct));
    }

    // Exactly what GET /api/customers answers for the segment's filters (CustomerFilters.Segment),
    // with Accept: text/csv the whole segment as a file, as the list writes it.
    private static async Task<Results<Ok<PagedResponse<CustomerResponse>>, CustomerCsvResult, NotFound>> ListSegmentCustomers(
        long id, [AsParameters] SegmentCustomersQuery query, HttpContext http, [FromKeyedServices(ReadSource.Key)] CrmDbContext db,
        PhoneNormalizer phones,
        TimeProvider clock, CancellationToken ct)
    {
        var filter = await FilterOfAsync(db, id, ct);
        if (filter is null)
            return TypedResults.NotFound();
        var list = query.Over(filter);
        var customers = CustomerFilters.Segment(db, list, phones, clock.GetUtcNow().UtcDateTime);
        if (CustomerCsvResult.IfAccepted(http, customers, list.Ordering, $"segment-{id}.csv") is { } csv)
            return csv;
        return TypedResults.Ok(await CustomerFilters.PageAsync(customers, db, list, ct));
    }

    private static async Task<Results<NoContent, NotFound>> DeleteSegment(long id, CrmDbContext db, CancellationToken ct) =>
        await db.Segments.Where(s => s.Id == id).ExecuteDeleteAsync(ct) == 1 ? TypedResults.NoContent() : TypedResults.NotFound();

    private static async Task<SegmentFilter?> FilterOfAsync(CrmDbContext db, long id, CancellationToken ct) =>
        await db.Segments.Where(s => s.Id == id).Select(s => s.Filter).FirstOrDefaultAsync(ct) is { } json
            ? SegmentFilter.FromJson(json)
            : null;

    private static async Task<SegmentResponse> ResponseAsync(
        CrmDbContext db, Segment segment, PhoneNormalizer phones, DateTime now, CancellationToken ct)
    {
        var filter = SegmentFilter.FromJson(segment.Filter);
        var count = await CustomerFilters.Segment(db, filter.ToQuery(), phones, now).CountAsync(ct);
        return new SegmentResponse(segment.Id, segment.Name, filter, count, segment.CreatedAt, segment.CreatedBy);
    }

    private static async Task<ProblemHttpResult> NameTakenAsync(CrmDbContext db, string name, CancellationToken ct)
    {
        var existingId = await db.Segments
            .Where(s => EF.Functions.Collate(s.Name, "und-x-icu").ToLower() == EF.Functions.Collate(name, "und-x-icu").ToLower())
            .Select(s => (long?)s.Id).FirstOrDefaultAsync(ct);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "A segment with this name already exists",
            detail: $"The name belongs to segment {existingId} (names are compared without case).",
            extensions: new Dictionary<string, object?>
            {
                ["existingId"] = existingId,
                ["errors"] = new Dictionary<string, string[]> { ["name"] = ["This name is taken."] },
            });
    }
}
