using Crm.Api.Infrastructure;
using Crm.Api.Reads;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Orders;
using Crm.Jobs.Phones;
using Crm.Jobs.Privacy;
using Crm.Jobs.Sync;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Crm.Api.Orders;

public static class OrdersEndpoints
{
    public static RouteGroupBuilder MapOrders(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/orders")
            .WithTags("Orders")
            .AddEndpointFilterFactory(ValidationFilter.Create)
            .ProducesValidationProblem();

        group.MapPost("/", CreateOrder).WithName("CreateOrder").WithSummary("Write an order; its customer is synced by a job")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/", ListOrders).WithName("ListOrders").WithSummary("List orders, newest first: filter by phone and status");
        group.MapGet("/{id}", GetOrder).WithName("GetOrder").WithSummary("Get one order");
        group.MapPatch("/{id}", PatchOrder).WithName("PatchOrder").WithSummary("Change the fields sent; the customer(s) are synced by jobs")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/import", ImportOrders).WithName("ImportOrders")
            .WithSummary("Bulk load NDJSON or CSV, streamed into PostgreSQL; one job syncs the affected customers")
            .Accepts<string>("application/x-ndjson", "text/csv")
            .WithMetadata(new Microsoft.AspNetCore.Mvc.DisableRequestSizeLimitAttribute())
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return group;
    }

    private static async Task<Results<Created<OrderResponse>, ProblemHttpResult>> CreateOrder(
        OrderInput input, CrmDbContext db, PhoneNormalizer phones, SyncScheduler scheduler, ErasedPhones erased, TimeProvider clock,
        CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var order = new Order
        {
            CustomerName = input.CustomerName ?? "",
            CustomerPhone = input.CustomerPhone ?? "",
            NormalizedPhone = phones.Normalize(input.CustomerPhone),
            CustomerEmail = input.CustomerEmail ?? "",
            DeliveryCity = input.DeliveryCity ?? "",
            DeliveryAddress = input.DeliveryAddress ?? "",
            TotalAmount = input.TotalAmount!.Value,
            Status = input.Status ?? OrderStatus.New,
            CreatedAt = input.CreatedAt?.UtcDateTime ?? now,
            UpdatedAt = now,
        };
        db.Orders.Add(order);
        try
        {
            var response = await SaveAndSyncAsync(db, scheduler, erased, order, previousPhone: null, ct);
            return TypedResults.Created($"/api/orders/{order.Id}", response);
        }
        catch (ErasedOrderException e)
        {
            return Erased(e);
        }
    }

    private static async Task<Results<Ok<OrderResponse>, NotFound, ProblemHttpResult>> PatchOrder(
        long id, OrderPatchInput input, CrmDbContext db, PhoneNormalizer phones, SyncScheduler scheduler, ErasedPhones erased,
        TimeProvider clock, CancellationToken ct)
    {
        var order = await db.Orders.FirstOrDefaultAsync(o => o.Id == id, ct);
        if (order is null)
            return TypedResults.NotFound();
        // The shop's database is the truth for its orders: a change here would be overwritten.
        if (order.Source == OrderSource.Shop)
            return TypedResults.Problem(
                statusCode: StatusCodes.Status409Conflict,
                title: "The shop owns this order",
                detail: $"Order {id} is followed from the shop's database (shop id {order.SourceId}); change it there.");

        var previousPhone = order.NormalizedPhone;
        order.CustomerName = input.CustomerName ?? order.CustomerName;
        if (input.CustomerPhone is not null)
        {
            order.CustomerPhone = input.CustomerPhone;
            order.NormalizedPhone = phones.Normalize(input.CustomerPhone);
        }
        order.CustomerEmail = input.CustomerEmail ?? order.CustomerEmail;
        order.DeliveryCity = input.DeliveryCity ?? order.DeliveryCity;
        order.DeliveryAddress = input.DeliveryAddress ?? order.DeliveryAddress;
        order.TotalAmount = input.TotalAmount ?? order.TotalAmount;
        order.Status = input.Status ?? order.Status;
        order.CreatedAt = input.CreatedAt?.UtcDateTime ?? order.CreatedAt;
        order.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        try
        {
            return TypedResults.Ok(await SaveAndSyncAsync(db, scheduler, erased, order, previousPhone, ct));
        }
        catch (ErasedOrderException e)
        {
            return Erased(e);
        }
    }

    private static async Task<Ok<PagedResponse<OrderResponse>>> ListOrders(
        [AsParameters] OrderListQuery query, [FromKeyedServices(ReadSource.Key)] CrmDbContext db, [FromKeyedServices(ReadSource.Key)] OrderQueries queries,
        PhoneNormalizer phones, CancellationToken ct)
    {
        var orders = db.Orders.AsNoTracking();
        if (query.Phone is not null)
        {
            var phone = phones.Normalize(query.Phone);
            orders = orders.Where(o => o.NormalizedPhone == phone);
        }
        if (EnumText.TryParse<OrderStatus>(query.Status, out var status))
            orders = orders.Where(o => o.Status == status);
        return TypedResults.Ok(await queries.NewestFirstAsync(orders, query, ct));
    }

    private static async Task<Results<Ok<OrderResponse>, NotFound>> GetOrder(long id, [FromKeyedServices(ReadSource.Key)] CrmDbContext db, CancellationToken ct)
    {
        var order = await db.Orders.AsNoTracking().Where(o => o.Id == id).Select(OrderResponse.Projection).FirstOrDefaultAsync(ct);
        return order is null ? TypedResults.NotFound() : TypedResults.Ok(order);
    }

    private static async Task<Results<Accepted<ImportResponse>, Ok<ImportResponse>, ProblemHttpResult, ValidationProblem>> ImportOrders(
        HttpContext http, OrderImporter importer, SyncScheduler scheduler, CrmMetrics metrics, CancellationToken ct)
    {
        var mediaType = http.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        ImportFormat? format = mediaType switch
        {
            "application/x-ndjson" or "application/ndjson" or "application/jsonl" => ImportFormat.Ndjson,
            "text/csv" => ImportFormat.Csv,
            _ => null,
        };
        if (format is null)
            return TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported import format",
                detail: "Send application/x-ndjson (one order per line) or text/csv (a header row, then one order per row).");

        ImportResult result;
        try
        {
            result = await importer.ImportAsync(http.Request.Body, format.Value, ct);
        }
        catch (InvalidDataException e)
        {
            // Not UTF-8: nothing was written; the client must re-encode the file.
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = [e.Message] });
        }
        metrics.Imported(result.Imported, result.Rejected, result.Skipped);
        var jobId = result.CustomersAffected > 0
            ? scheduler.EnqueuePendingSync($"import of {result.Imported} orders")
            : null;
        var report = new ImportResponse(result.Imported, result.Rejected, result.Skipped, result.Errors, jobId, StatusUrl: null);
        if (jobId is null)
            return TypedResults.Ok(report);
        // Like every job trigger: 202, Location and statusUrl point at the job; the report comes along.
        var accepted = JobAccepted.For(jobId);
        return TypedResults.Accepted(accepted.Location, report with { StatusUrl = accepted.Value!.StatusUrl });
    }

    // 409: an order of an erased person from before the erase is not stored (docs/PRIVACY.md).
    private static ProblemHttpResult Erased(ErasedOrderException e) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The order's person was erased", detail: e.Message);

    // The order and the request to sync its customer(s) commit together (SyncScheduler.SaveAndSyncAsync),
    // once the erasure tombstones admit it.
    private static async Task<OrderResponse> SaveAndSyncAsync(
        CrmDbContext db, SyncScheduler scheduler, ErasedPhones erased, Order order, string? previousPhone, CancellationToken ct)
    {
        string[] phones = [.. new[] { order.NormalizedPhone, previousPhone }.OfType<string>().Distinct()];
        async Task Admit(CancellationToken ct)
        {
            if (order.NormalizedPhone is null)
                return;
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var transaction = (NpgsqlTransaction)db.Database.CurrentTransaction!.GetDbTransaction();
            if (await erased.ErasedAtAsync(connection, transaction, order.NormalizedPhone, ct) is { } erasedAt && order.CreatedAt <= erasedAt)
                throw new ErasedOrderException();
        }
        // One job syncs both customers of a moved order (and the other writers' customers).
        var jobId = await scheduler.SaveAndSyncAsync(db, phones, ct, admit: Admit);
        return OrderResponse.From(order) with
        {
            SyncJobId = order.NormalizedPhone is null ? null : jobId,
            PreviousCustomerSyncJobId = previousPhone is not null && previousPhone != order.NormalizedPhone ? jobId : null,
        };
    }
}
