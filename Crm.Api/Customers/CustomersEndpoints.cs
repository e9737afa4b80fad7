using Crm.Api.Auth;
using Crm.Api.Infrastructure;
using Crm.Api.Orders;
using Crm.Api.Reads;
using Crm.Jobs.Categories;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Crm.Jobs.Phones;
using Crm.Jobs.Sync;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Api.Customers;

public static class CustomersEndpoints
{
    public static RouteGroupBuilder MapCustomers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/customers")
            .WithTags("Customers")
            .AddEndpointFilterFactory(ValidationFilter.Create)
            .ProducesValidationProblem();

        group.MapGet("/", ListCustomers).WithName("ListCustomers").WithSummary("List customers: filter, search, order, page");
        group.MapGet("/{id}", GetCustomer).WithName("GetCustomer").WithSummary("Get one customer");
        group.MapPost("/", CreateCustomer).WithName("CreateCustomer").WithSummary("Create a customer")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPut("/{id}", ReplaceCustomer).WithName("ReplaceCustomer").WithSummary("Replace a customer's editable fields (If-Match: its ETag)")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        group.MapPatch("/{id}", PatchCustomer).WithName("PatchCustomer").WithSummary("Change the editable fields sent (If-Match: its ETag)")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed);
        group.MapDelete("/{id}", DeleteCustomer).WithName("DeleteCustomer").WithSummary("Delete a customer and its notes")
            .WithDescription("A customer is kept from its orders: while orders with its phone exist, the next sync of that phone " +
                             "(a new order, the nightly sync-default) creates it again, with a new id and without the notes. " +
                             "To remove a person for good, erase them: POST /api/customers/{id}/erase.");
        group.MapGet("/{id}/timeline", CustomerTimeline.GetTimeline).WithName("GetCustomerTimeline")
            .WithSummary("A customer's orders, notes and changes (the ledger) in one list, newest first");
        group.MapGet("/{id}/orders", ListOrders).WithName("ListCustomerOrders").WithSummary("A customer's order history, newest first");
        group.MapPost("/{id}/update-stats", UpdateStatistics).WithName("UpdateCustomerStatistics")
            .WithSummary("Enqueue the recalculation of a customer's statistics and category");
        group.MapGet("/{id}/notes", ListNotes).WithName("ListCustomerNotes").WithSummary("A customer's notes, newest first");
        group.MapPost("/{id}/notes", AddNote).WithName("AddCustomerNote").WithSummary("Add a note to a customer");
        return group;
    }

    // With Accept: text/csv the whole segment (every page) in the list's order, as a file.
    private static async Task<Results<Ok<PagedResponse<CustomerResponse>>, CustomerCsvResult>> ListCustomers(
        [AsParameters] CustomerListQuery query, HttpContext http, [FromKeyedServices(ReadSource.Key)] CrmDbContext db, PhoneNormalizer phones, TimeProvider clock,
        CancellationToken ct)
    {
        var customers = CustomerFilters.Segment(db, query, phones, clock.GetUtcNow().UtcDateTime);
        if (CustomerCsvResult.IfAccepted(http, customers, query.Ordering, "customers.csv") is { } csv)
            return csv;
        return TypedResults.Ok(await CustomerFilters.PageAsync(customers, db, query, ct));
    }

    private static async Task<Results<Ok<CustomerResponse>, NotFound>> GetCustomer(
        long id, HttpContext http, [FromKeyedServices(ReadSource.Key)] CustomerQueries customers, CancellationToken ct)
    {
        if (await customers.DetailsAsync(id, ct) is not { } found)
            return TypedResults.NotFound();
        http.Response.Headers.ETag = ETag(found.Version);
        return TypedResults.Ok(found.Customer);
    }

    private static async Task<Results<Created<CustomerResponse>, ProblemHttpResult>> CreateCustomer(
        CustomerRequest request, HttpContext http, CrmDbContext db, PhoneNormalizer phones, SyncScheduler scheduler,
        TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var customer = new Customer { Name = "", Phone = "", CreatedAt = now };
        Apply(customer, request, phones, replaceAll: true, now);
        db.Customers.Add(customer);

        // The phone may already have orders: the customer gets their statistics (and its empty
        // fields their contact data) from the same sync an order write asks for, recorded in
        // the customer's own transaction.
        async Task Admit(CancellationToken ct)
        {
            if (await OtherPhoneOwnerAsync(db, customer.Phone, ct) is not null)
                throw new PhoneOwnedException();
        }
        try
        {
            await scheduler.SaveAndSyncAsync(db, [customer.Phone], ct, ChangeSource(http), Admit);
        }
        catch (Exception e) when (e is PhoneOwnedException || IsPhoneTaken(e))
        {
            return await PhoneTakenAsync(db, customer.Phone, ct);
        }
        SetETag(http, customer);
        // Answered as a read answers it: the numeric columns at their scale (totalSpent 0.00, not 0).
        var created = await db.Customers.AsNoTracking().Where(c => c.Id == customer.Id).Select(CustomerResponse.Projection).FirstOrDefaultAsync(ct);
        return TypedResults.Created($"/api/customers/{customer.Id}", (created ?? CustomerResponse.From(customer)) with { Phones = [customer.Phone] });
    }

    private static Task<Results<Ok<CustomerResponse>, NotFound, ProblemHttpResult>> ReplaceCustomer(
        long id, CustomerRequest request, HttpContext http, CrmDbContext db, PhoneNormalizer phones, SyncScheduler scheduler,
        TimeProvider clock, CancellationToken ct) =>
        UpdateAsync(id, request, replaceAll: true, http, db, phones, scheduler, clock, ct);

    private static Task<Results<Ok<CustomerResponse>, NotFound, ProblemHttpResult>> PatchCustomer(
        long id, CustomerPatchRequest request, HttpContext http, CrmDbContext db, PhoneNormalizer phones, SyncScheduler scheduler,
        TimeProvider clock, CancellationToken ct) =>
        UpdateAsync(id, request, replaceAll: false, http, db, phones, scheduler, clock, ct);

    private static async Task<Results<NoContent, NotFound>> DeleteCustomer(long id, HttpContext http, CrmDbContext db, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await ChangeLedger.BeginAsync(db, ChangeSource(http), ct);
        var deleted = await db.Customers.Where(c => c.Id == id).ExecuteDeleteAsync(ct);
        await transaction.CommitAsync(ct);
        return deleted == 0 ? TypedResults.NotFound() : TypedResults.NoContent();
    }

    private static string ChangeSource(HttpContext http) => Caller.ChangeSourceOf(http.User);

    private static async Task<Results<Ok<PagedResponse<OrderResponse>>, NotFound>> ListOrders(
        long id, [AsParameters] PageQuery query, [FromKeyedServices(ReadSource.Key)] CustomerQueries customers, [FromKeyedServices(ReadSource.Key)] OrderQueries orders,
        CancellationToken ct)
    {
        var phones = await customers.PhonesOfAsync(id, ct);
        if (phones is null)
            return TypedResults.NotFound();
        return TypedResults.Ok(await orders.NewestFirstAsync(orders.OfCustomer(phones), query, ct));
    }

    private static async Task<Results<Accepted<JobAccepted>, NotFound>> UpdateStatistics(
        long id, CustomerQueries customers, SyncScheduler scheduler, CancellationToken ct)
    {
        return await customers.ExistsAsync(id, ct) ? JobAccepted.For(scheduler.EnqueueStatistics(id)) : TypedResults.NotFound();
    }

    private static async Task<Results<Ok<List<NoteResponse>>, NotFound>> ListNotes(
        long id, [FromKeyedServices(ReadSource.Key)] CustomerQueries customers, CancellationToken ct)
    {
        return await customers.NotesOfAsync(id, ct) is { } notes ? TypedResults.Ok(notes) : TypedResults.NotFound();
    }

    private static async Task<Results<Created<NoteResponse>, NotFound>> AddNote(
        long id, NoteRequest request, HttpContext http, CrmDbContext db, TimeProvider clock, CancellationToken ct)
    {
        return await CustomerNotes.AddAsync(db, id, request.Note!, http.User, clock, ct) is { } note
            ? TypedResults.Created($"/api/customers/{id}/notes", note)
            : TypedResults.NotFound();
    }

    // With If-Match, the write happens only if nobody changed the customer since that ETag
    // (412 otherwise); without it, the last write wins: the fields this request sets are
    // written whatever happened to the row since it was read (a sync, another client).
    // A new phone asks for the sync of both phones in the same transaction: the customer
    // gets the new phone's statistics, and the old phone's orders their customer again.
    private static async Task<Results<Ok<CustomerResponse>, NotFound, ProblemHttpResult>> UpdateAsync(
        long id, ICustomerFields request, bool replaceAll, HttpContext http,
        CrmDbContext db, PhoneNormalizer phones, SyncScheduler scheduler, TimeProvider clock, CancellationToken ct)
    {
        var ifMatch = http.Request.Headers.IfMatch.ToString();
        var customer = await db.Customers.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (customer is null)
            return TypedResults.NotFound();
        if (ifMatch.Length > 0 && !Matches(ifMatch, customer))
            return PreconditionFailed(customer);

        var previousPhone = customer.Phone;
        Apply(customer, request, phones, replaceAll, clock.GetUtcNow().UtcDateTime);
        var phone = customer.Phone;
        var moved = phone != previousPhone;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            await ChangeLedger.BeginAsync(db, ChangeSource(http), ct);
            // One of its own other phones becomes the primary one: the previous primary phone
            // takes its place, and the orders of both still count for the customer.
            if (moved && await OtherPhoneOwnerAsync(db, phone, ct) is { } owner)
            {
                if (owner != id)
                    return await PhoneTakenAsync(db, phone, ct);
                await db.Database.ExecuteSqlRawAsync(
                    "UPDATE customer_phones SET phone = @previous WHERE phone = @phone",
                    [new NpgsqlParameter("previous", previousPhone), new NpgsqlParameter("phone", phone)], ct);
            }
            if (ifMatch.Length > 0)
            {
                await db.SaveChangesAsync(ct);
            }
            else
            {
                var changed = db.Entry(customer).Properties.Where(p => p.IsModified).ToList();
                await db.Customers.Where(c => c.Id == id).ExecuteUpdateAsync(setters =>
                {
                    foreach (var property in changed)
                    {
                        var name = property.Metadata.Name;
                        if (property.CurrentValue is string text)
                            setters.SetProperty(c => EF.Property<string>(c, name), text);
                    }
                    setters.SetProperty(c => c.UpdatedAt, customer.UpdatedAt);
                }, ct);
                db.ChangeTracker.Clear();
                customer = await db.Customers.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct);
                if (customer is null)
                    return TypedResults.NotFound();
            }
            if (moved)
                await SyncScheduler.RecordAsync(db, [previousPhone, phone], ct);
            await transaction.CommitAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return PreconditionFailed(null);
        }
        catch (Exception e) when (IsPhoneTaken(e))
        {
            return await PhoneTakenAsync(db, phone, ct);
        }
        if (moved)
            await scheduler.DispatchAsync(ct);
        SetETag(http, customer);
        var others = await CustomerQueries.OtherPhonesOf(db, id).ToListAsync(ct);
        return TypedResults.Ok(CustomerResponse.From(customer) with { Phones = [customer.Phone, .. others] });
    }

    private static string ETag(uint version) => $"\"{version}\"";

    private static string ETag(Customer customer) => ETag(customer.Version);

    private static void SetETag(HttpContext http, Customer customer) => http.Response.Headers.ETag = ETag(customer);

    private static bool Matches(string ifMatch, Customer customer) =>
        ifMatch.Split(',', StringSplitOptions.TrimEntries).Any(tag => tag == "*" || tag == ETag(customer));

    private static ProblemHttpResult PreconditionFailed(Customer? current) => TypedResults.Problem(
        statusCode: StatusCodes.Status412PreconditionFailed,
        title: "The customer has changed since it was read",
        detail: current is null ? "Read it again and retry." : $"Its current ETag is {ETag(current)}; read it again and retry.");

    // PUT and POST replace every editable field (a missing optional one becomes empty);
    // PATCH changes only the fields sent.
    private static void Apply(Customer customer, ICustomerFields fields, PhoneNormalizer phones, bool replaceAll, DateTime now)
    {
        string Pick(string? value, string current) => value?.Trim() ?? (replaceAll ? "" : current);

        customer.Name = fields.Name?.Trim() ?? customer.Name;
        if (fields.Phone is not null)
            customer.Phone = phones.Normalize(fields.Phone)!;
        customer.Email = Pick(fields.Email, customer.Email);
        customer.City = Pick(fields.City, customer.City);
        customer.Address = Pick(fields.Address, customer.Address);
        customer.Notes = fields.Notes ?? (replaceAll ? "" : customer.Notes);
        customer.UpdatedAt = now;
    }

    // The unique index on phone decides between racing writers; no check-then-insert.
    // SaveChanges wraps the database's error in a DbUpdateException; ExecuteUpdate does not.
    private static bool IsPhoneTaken(Exception e) =>
        (e as PostgresException ?? e.InnerException as PostgresException)
            is { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "ix_customers_phone" };

    // The customer whose other phone this is, read under the phone's lock: adding a phone to a
    // customer takes it too (CustomerPhonesEndpoints), so the two cannot both take one phone.
    private static async Task<long?> OtherPhoneOwnerAsync(CrmDbContext db, string phone, CancellationToken ct)
    {
        await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(hashtextextended(@phone, 0))", [new NpgsqlParameter("phone", phone)], ct);
        return (await db.CustomerPhones.Where(p => p.Phone == phone).Select(p => (long?)p.CustomerId).ToListAsync(ct)).FirstOrDefault();
    }

    private static async Task<ProblemHttpResult> PhoneTakenAsync(CrmDbContext db, string phone, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var existingId = await CustomerQueries.OwnerOfPhoneAsync(db, phone, ct);
        return TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: "A customer with this phone already exists",
            detail: $"Phone {phone} belongs to customer {existingId}.",
            extensions: new Dictionary<string, object?>
            {
                ["existingId"] = existingId,
                ["errors"] = new Dictionary<string, string[]> { ["phone"] = ["This phone is taken."] },
            });
    }
}
