using Crm.Api.Auth;
using Crm.Api.Customers;
using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Crm.Jobs.Privacy;
using Hangfire;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Crm.Api.Privacy;

// Erase and export by customer id: the customer's phone names the person (docs/PRIVACY.md).
public static class CustomerPrivacyEndpoints
{
    public static RouteGroupBuilder MapCustomerPrivacy(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/customers/{id}")
            .WithTags("Privacy")
            .WithMetadata(new AuthorizeAttribute { Roles = CrmRoles.Admin })
            .AddEndpointFilterFactory(ValidationFilter.Create);

        group.MapPost("/erase", Erase).WithName("EraseCustomer")
            .WithSummary("Erase the customer and everything held about its phone; answers the erase job");
        group.MapGet("/export", Export).WithName("ExportCustomer")
            .WithSummary("Everything held about the customer's phone, as one JSON document");
        return group;
    }

    private static async Task<Results<Accepted<ErasureAccepted>, NotFound>> Erase(
        long id, HttpContext http, CrmDbContext db, CustomerQueries customers, IBackgroundJobClient jobs, TimeProvider clock,
        CancellationToken ct)
    {
        var phone = await customers.PhoneOfAsync(id, ct);
        if (phone is null)
            return TypedResults.NotFound();
        return await ErasureRequests.RequestAsync(db, jobs, clock, Caller.NameOf(http.User), phone, id, ct);
    }

    private static async Task<Results<Ok<PersonalData>, NotFound>> Export(
        long id, CustomerQueries customers, NpgsqlDataSource dataSource, ErasedPhones erasedPhones, TimeProvider clock,
        CancellationToken ct)
    {
        var phone = await customers.PhoneOfAsync(id, ct);
        if (phone is null)
            return TypedResults.NotFound();
        return TypedResults.Ok(await PersonalDataExport.ReadAsync(dataSource, erasedPhones, phone, id, clock, ct));
    }
}
