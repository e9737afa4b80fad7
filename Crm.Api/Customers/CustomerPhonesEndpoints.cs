using Crm.Api.Infrastructure;
using Crm.Api.Reads;
using Crm.Jobs.Data;
using Crm.Jobs.Phones;
using Crm.Jobs.Sync;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Customers;

// A customer's other phones (docs/API.md, "Several phones"): the orders of each count for it.
// A change locks the phones involved as a per-customer sync does (SyncScheduler.LockPhonesAsync), so a
// sync never reads a customer's phones halfway through a change; it records a sync request
// for the phone and the customer's primary phone in the same transaction, and the shared
// pending-writes job recounts both sides.
public static class CustomerPhonesEndpoints
{
    public static RouteGroupBuilder MapCustomerPhones(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/customers/{id}/phones")
            .WithTags("Customers")
            .AddEndpointFilterFactory(ValidationFilter.Create)
            .ProducesValidationProblem();

        group.MapGet("/", ListPhones).WithName("ListCustomerPhones").WithSummary("A customer's phones, the primary one first");
        group.MapPost("/", AddPhone).WithName("AddCustomerPhone")
            .WithSummary("Add a phone to a customer: the orders of that phone count for it")
            .WithDescription("409 when the phone belongs to another customer (as its primary phone or another one): merge them instead.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{phone}", RemovePhone).WithName("RemoveCustomerPhone")
            .WithSummary("Remove a phone other than the primary one: its orders form a customer of their own at the next sync")
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<Results<Ok<CustomerPhonesResponse>, NotFound>> ListPhones(
        long id, [FromKeyedServices(ReadSource.Key)] CustomerQueries customers, CancellationToken ct)
    {
        var phones = await customers.PhonesOfAsync(id, ct);
        return phones is null ? TypedResults.NotFound() : TypedResults.Ok(new CustomerPhonesResponse(id, phones, null));
    }

    private static async Task<Results<Ok<CustomerPhonesResponse>, Created<CustomerPhonesResponse>, NotFound, ProblemHttpResult>> AddPhone(
        long id, CustomerPhoneRequest request, CrmDbContext db, CustomerQueries customers, PhoneNormalizer normalizer,
        SyncScheduler scheduler, TimeProvider clock, CancellationToken ct)
    {
        var phone = normalizer.Normalize(request.Phone)!;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            var primary = await LockAsync(db, id, phone, ct);
            if (primary is null)
                return TypedResults.NotFound();
            var owner = await CustomerQueries.OwnerOfPhoneAsync(db, phone, ct);
            if (owner == id)
                return TypedResults.Ok(new CustomerPhonesResponse(id, (await customers.PhonesOfAsync(id, ct))!, null));
            if (owner is not null)
                return PhoneTaken(phone, owner.Value);
            try
            {
                await db.Database.ExecuteSqlRawAsync(
                    "INSERT INTO customer_phones (phone, customer_id, added_at) VALUES (@phone, @id, @now)",
                    [new NpgsqlParameter("phone", phone), new NpgsqlParameter("id", id), new NpgsqlParameter("now", clock.GetUtcNow().UtcDateTime)], ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                // Deleted (or erased) a moment ago: the foreign key decides.
                return TypedResults.NotFound();
            }
            await SyncScheduler.RecordAsync(db, [primary, phone], ct);
            await transaction.CommitAsync(ct);
        }
        var jobId = await scheduler.DispatchAsync(ct);
        return TypedResults.Created($"/api/customers/{id}/phones", new CustomerPhonesResponse(id, (await customers.PhonesOfAsync(id, ct))!, jobId));
    }

    private static async Task<Results<Ok<CustomerPhonesResponse>, NotFound, ProblemHttpResult>> RemovePhone(
        long id, string phone, CrmDbContext db, CustomerQueries customers, PhoneNormalizer normalizer,
        SyncScheduler scheduler, CancellationToken ct)
    {
        // The path holds the phone as the client spells it ("+79991234567", URL-encoded).
        var normalized = normalizer.Normalize(phone);
        if (normalized is null)
            return TypedResults.NotFound();
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            var primary = await LockAsync(db, id, normalized, ct);
            if (primary is null)
                return TypedResults.NotFound();
            if (primary == normalized)
                return TypedResults.Problem(
                    statusCode: StatusCodes.Status409Conflict,
                    title: "The primary phone cannot be removed",
                    detail: $"Phone {normalized} is the primary phone of customer {id}; change the customer's phone first.",
                    extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["phone"] = ["This is the primary phone."] } });
            var removed = await db.Database.ExecuteSqlRawAsync(
                "DELETE FROM customer_phones WHERE phone = @phone AND customer_id = @id",
                [new NpgsqlParameter("phone", normalized), new NpgsqlParameter("id", id)], ct);
            if (removed == 0)
                return TypedResults.NotFound();
            await SyncScheduler.RecordAsync(db, [primary, normalized], ct);
            await transaction.CommitAsync(ct);
        }
        var jobId = await scheduler.DispatchAsync(ct);
        return TypedResults.Ok(new CustomerPhonesResponse(id, (await customers.PhonesOfAsync(id, ct))!, jobId));
    }

    // Locks the customer's phones and the phone (with every other phone of its customer, if it
    // has one), then reads the customer's primary phone; null for an unknown customer.
    private static async Task<string?> LockAsync(CrmDbContext db, long id, string phone, CancellationToken ct)
    {
        var primary = await db.Customers.Where(c => c.Id == id).Select(c => c.Phone).FirstOrDefaultAsync(ct);
        if (primary is null)
            return null;
        await SyncScheduler.LockPhonesAsync(db, [primary, phone], ct);
        // Read again under the locks: the primary phone may have changed meanwhile.
        return await db.Customers.Where(c => c.Id == id).Select(c => c.Phone).FirstOrDefaultAsync(ct);
    }

    private static ProblemHttpResult PhoneTaken(string phone, long owner) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "The phone belongs to another customer",
        detail: $"Phone {phone} belongs to customer {owner}; merge the two customers instead.",
        extensions: new Dictionary<string, object?>
        {
            ["existingId"] = owner,
            ["errors"] = new Dictionary<string, string[]> { ["phone"] = ["This phone is taken."] },
        });
}
