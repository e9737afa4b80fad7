using System.Diagnostics;
using Crm.Jobs.Categories;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Bench;

public sealed record SeedOutcome(int Phones, int Created, int Errors, double WallMs);

// A faithful C# port of the Django CRM's `sync_crm` (default mode): a loop over the distinct
// phones, each in its own transaction —
//     latest_order = Order.objects.filter(phone=…).order_by('-created_at').first()
//     customer, created = Customer.objects.get_or_create(phone=…, defaults={…latest_order…})
//     stats = completed orders .aggregate(Count, Sum, Max)
//     customer.<statistics>, customer.category = …; customer.save()
// — with EF Core on the app's own DbContext and entities, so the difference measured is the
// algorithm (round trips and commits per customer), not the data model.
public static class SeedAlgorithm
{
    private static readonly CategoryOptions Rules = new();
    private static readonly string Placeholder = new SyncOptions().PlaceholderName;
    private static readonly char[] Blank = [' ', '\t', '\r', '\n'];

    // limit: only the first phones (the bench's untimed warm-up).
    public static async Task<SeedOutcome> RunAsync(NpgsqlDataSource dataSource, Action<string>? progress = null, int? limit = null)
    {
        var builder = new DbContextOptionsBuilder<CrmDbContext>();
        CrmDbContext.Configure(builder, dataSource);
        var options = builder.Options;

        var stopwatch = Stopwatch.StartNew();
        List<string> phones;
        await using (var db = new CrmDbContext(options))
        {
            phones = await db.Orders.Where(o => o.NormalizedPhone != null)
                .Select(o => o.NormalizedPhone!).Distinct().ToListAsync();
        }
        if (limit is not null)
            phones = phones.Take(limit.Value).ToList();

        int created = 0, errors = 0;
        var lastReport = Stopwatch.StartNew();
        for (var i = 0; i < phones.Count; i++)
        {
            try
            {
                if (await SyncPhoneAsync(options, phones[i]))
                    created++;
            }
            catch (Exception e) when (e is DbUpdateException or NpgsqlException or InvalidOperationException)
            {
                // The Django CRM counted a failed customer and went on with the next one.
                errors++;
            }
            if (progress is not null && lastReport.Elapsed > TimeSpan.FromSeconds(30))
            {
                progress($"{i + 1:N0} of {phones.Count:N0} phones after {stopwatch.Elapsed.TotalSeconds:F0} s");
                lastReport.Restart();
            }
        }
        return new SeedOutcome(phones.Count, created, errors, stopwatch.Elapsed.TotalMilliseconds);
    }

    // One customer, one transaction (the Django CRM's `with transaction.atomic()`). True if created.
    private static async Task<bool> SyncPhoneAsync(DbContextOptions<CrmDbContext> options, string phone)
    {
        await using var db = new CrmDbContext(options);
        await using var transaction = await db.Database.BeginTransactionAsync();

        var latest = await db.Orders
            .Where(o => o.NormalizedPhone == phone)
            .OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id)
            .FirstAsync();

        var customer = await db.Customers.FirstOrDefaultAsync(c => c.Phone == phone);
        var created = customer is null;
        if (customer is null)
        {
            var name = latest.CustomerName.Trim(Blank);
            customer = new Customer
            {
                Name = name.Length > 0 ? name : Placeholder,
                Phone = phone,
                Email = latest.CustomerEmail.Trim(Blank),
                City = latest.DeliveryCity.Trim(Blank),
                Address = latest.DeliveryAddress.Trim(Blank),
            };
            db.Customers.Add(customer);
            await db.SaveChangesAsync();
        }

        // Django's aggregate(): one SELECT count(*), sum(...), max(...) over the completed orders.
        var stats = await db.Orders
            .Where(o => o.NormalizedPhone == phone && o.Status == OrderStatus.Completed)
            .GroupBy(o => 1)
            .Select(g => new { Count = g.Count(), Sum = g.Sum(o => o.TotalAmount), Last = g.Max(o => (DateTime?)o.CreatedAt) })
            .FirstOrDefaultAsync();

        var now = DateTime.UtcNow;
        customer.TotalOrders = stats?.Count ?? 0;
        customer.TotalSpent = stats?.Sum ?? 0m;
        // PostgreSQL's round() rounds halves away from zero; so must the port.
        customer.AverageOrder = customer.TotalOrders == 0
            ? 0m
            : Math.Round(customer.TotalSpent / customer.TotalOrders, 2, MidpointRounding.AwayFromZero);
        customer.LastOrderDate = stats?.Last;
        customer.Category = Category(customer.TotalOrders, customer.TotalSpent, customer.LastOrderDate, now);
        customer.UpdatedAt = now;
        await db.SaveChangesAsync();

        await transaction.CommitAsync();
        return created;
    }

    // SPEC §3, first rule that holds.
    private static CustomerCategory Category(int orders, decimal spent, DateTime? last, DateTime now)
    {
        if (orders == 0)
            return CustomerCategory.New;
        if (last < now.AddDays(-Rules.InactiveAfterDays))
            return CustomerCategory.Inactive;
        if (orders >= Rules.VipMinOrders || spent >= Rules.VipMinSpent)
            return CustomerCategory.Vip;
        return orders >= Rules.RegularMinOrders ? CustomerCategory.Regular : CustomerCategory.New;
    }
}
