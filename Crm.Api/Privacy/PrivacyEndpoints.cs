using Crm.Api.Auth;
using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Crm.Jobs.Phones;
using Crm.Jobs.Privacy;
using Hangfire;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Privacy;

// A person's rights over their data (docs/PRIVACY.md), by phone: whether or not a customer
// exists. Admin only: an export hands out everything, an erase destroys it.
public static class PrivacyEndpoints
{
    public static RouteGroupBuilder MapPrivacy(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/privacy")
            .WithTags("Privacy")
            .WithMetadata(new AuthorizeAttribute { Roles = CrmRoles.Admin })
            .AddEndpointFilterFactory(ValidationFilter.Create)
            .ProducesValidationProblem();

        group.MapPost("/erasures", Erase).WithName("ErasePerson")
            .WithSummary("Erase everything held about a phone and keep its past orders out; answers the erase job");
        group.MapGet("/erasures", ListErasures).WithName("ListErasures")
            .WithSummary("The erase receipts, newest first: who asked, when, rows per store (never the phone)");
        group.MapGet("/erasures/{id}", GetErasure).WithName("GetErasure").WithSummary("One erase receipt");
        group.MapGet("/export", Export).WithName("ExportPerson")
            .WithSummary("Everything held about a phone, as one JSON document");
        return group;
    }

    private static Task<Accepted<ErasureAccepted>> Erase(
        ErasureRequest request, HttpContext http, CrmDbContext db, PhoneNormalizer phones, IBackgroundJobClient jobs,
        TimeProvider clock, CancellationToken ct) =>
        ErasureRequests.RequestAsync(db, jobs, clock, Caller.NameOf(http.User), phones.Normalize(request.Phone)!, null, ct);

    private static async Task<Ok<PagedResponse<ErasureReceipt>>> ListErasures(
        [AsParameters] PageQuery query, CrmDbContext db, CancellationToken ct)
    {
        var page = await db.Erasures.AsNoTracking().ToPageAsync(db, query,
            e => e.OrderByDescending(x => x.RequestedAt).ThenByDescending(x => x.Id), ErasureReceipt.Projection, ct);
        return TypedResults.Ok(new PagedResponse<ErasureReceipt>(
            [.. page.Items.Select(ErasureReceipt.From)], page.Page, page.PageSize, page.TotalCount, page.TotalCountExact));
    }

    private static async Task<Results<Ok<ErasureReceipt>, NotFound>> GetErasure(long id, CrmDbContext db, CancellationToken ct)
    {
        var row = await db.Erasures.AsNoTracking().Where(e => e.Id == id).Select(ErasureReceipt.Projection).FirstOrDefaultAsync(ct);
        return row is null ? TypedResults.NotFound() : TypedResults.Ok(ErasureReceipt.From(row));
    }

    private static async Task<Ok<PersonalData>> Export(
        [AsParameters] ExportQuery query, NpgsqlDataSource dataSource, PhoneNormalizer phones, ErasedPhones erasedPhones,
        TimeProvider clock, CancellationToken ct) =>
        TypedResults.Ok(await PersonalDataExport.ReadAsync(dataSource, erasedPhones, phones.Normalize(query.Phone)!, null, clock, ct));
}
