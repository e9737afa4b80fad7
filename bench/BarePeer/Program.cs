using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;

// The bare peer of GET /api/customers/{id}: a minimal API with a pooled DbContext on the
// same table, answering with the same JSON, and nothing else (no validation filter,
// problem details, dashboard or job server). crm-minimal's req/s is compared to this.
var builder = WebApplication.CreateBuilder(args);
var connectionString = builder.Configuration.GetConnectionString("Crm")
    ?? throw new InvalidOperationException("ConnectionStrings:Crm is not set (environment variable ConnectionStrings__Crm).");

builder.Services.AddDbContextPool<CrmDbContext>(options => CrmDbContext.Configure(options, connectionString));
builder.Services.ConfigureHttpJsonOptions(options => CrmJson.Configure(options.SerializerOptions));
// The same log levels as Crm.Api's appsettings.json, so neither pays for logging the other skips.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Warning);

var app = builder.Build();

app.MapGet("/health", () => "ok");
app.MapGet("/customers/{id:long}", async (long id, CrmDbContext db, CancellationToken ct) =>
    await db.Customers.AsNoTracking()
        .Where(c => c.Id == id)
        .Select(c => new CustomerResponse(
            c.Id, c.Name, c.Phone, c.Email, c.City, c.Address, c.Notes, c.Category,
            c.TotalOrders, c.TotalSpent, c.AverageOrder, c.LastOrderDate, c.CreatedAt, c.UpdatedAt))
        .FirstOrDefaultAsync(ct) is { } customer
        ? Results.Ok(customer)
        : Results.NotFound());

app.Run();

// The same members, in the same order, as Crm.Api's CustomerResponse: the same JSON body.
internal sealed record CustomerResponse(
    long Id,
    string Name,
    string Phone,
    string Email,
    string City,
    string Address,
    string Notes,
    CustomerCategory Category,
    int TotalOrders,
    decimal TotalSpent,
    decimal AverageOrder,
    DateTime? LastOrderDate,
    DateTime CreatedAt,
    DateTime UpdatedAt);
