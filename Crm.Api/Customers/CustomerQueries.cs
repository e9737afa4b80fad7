using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crm.Api.Customers;

// The customer reads other routes share (the original routes go by a customer's phone too,
// the dashboard's customer card shows what GET /api/customers/{id} answers).
public sealed class CustomerQueries(CrmDbContext db, IOptions<CategoryOptions> categories, TimeProvider clock)
{
    // A customer as GET /api/customers/{id} answers it (every phone, the category explained),
    // with its row version (the ETag); null if there is no such customer. Only the response's
    // columns and the row version: not the search text, not a tracked entity.
    public async Task<(CustomerResponse Customer, uint Version)?> DetailsAsync(long id, CancellationToken ct)
    {
        var others = OtherPhonesOf(db, id);
        var found = await db.Customers.AsNoTracking()
            .Where(c => c.Id == id)
            .Select(c => new
            {
                c.Version, c.CategoryRule,
                Others = others.ToList(),
                Customer = new CustomerResponse(
                c.Id, c.Name, c.Phone, c.Email, c.City, c.Address, c.Notes, c.Category,
                c.TotalOrders, c.TotalSpent, c.AverageOrder, c.LastOrderDate, c.CreatedAt, c.UpdatedAt)
            })
            .FirstOrDefaultAsync(ct);
        if (found is null)
            return null;
        // The stored rule and statistics, explained with the thresholds configured now (those the
        // next recalculation applies).
        var customer = found.Customer;
        var thresholds = CategoryThresholds.From(categories.Value, clock.GetUtcNow().UtcDateTime);
        return (customer with
        {
            CategoryReason = CategoryReason.Of(found.CategoryRule, customer.TotalOrders, customer.TotalSpent, customer.LastOrderDate, thresholds),
            Phones = [customer.Phone, .. found.Others],
        }, found.Version);
    }

    // A customer's notes, newest first; null if there is no such customer.
    public async Task<List<NoteResponse>?> NotesOfAsync(long id, CancellationToken ct)
    {
        if (!await ExistsAsync(id, ct))
            return null;
        return await db.CustomerNotes.AsNoTracking()
            .Where(n => n.CustomerId == id)
            .OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id)
            .Select(n => new NoteResponse(n.Id, n.CustomerId, n.Note, n.CreatedBy, n.CreatedAt))
            .ToListAsync(ct);
    }

    // A customer's identity, which its orders go by; null if there is no such customer.
    public Task<string?> PhoneOfAsync(long id, CancellationToken ct) =>
        db.Customers.Where(c => c.Id == id).Select(c => c.Phone).FirstOrDefaultAsync(ct);

    public Task<bool> ExistsAsync(long id, CancellationToken ct) => db.Customers.AnyAsync(c => c.Id == id, ct);

    // Every phone its orders go by, the primary one first, then the others as they were added;
    // null if there is no such customer.
    public async Task<List<string>?> PhonesOfAsync(long id, CancellationToken ct)
    {
        var others = OtherPhonesOf(db, id);
        var found = await db.Customers.Where(c => c.Id == id)
            .Select(c => new { c.Phone, Others = others.ToList() })
            .FirstOrDefaultAsync(ct);
        return found is null ? null : [found.Phone, .. found.Others];
    }

    // The customer holding the phone, as its primary phone or another one; null if none.
    public static async Task<long?> OwnerOfPhoneAsync(CrmDbContext db, string phone, CancellationToken ct) =>
        (await db.Customers.Where(c => c.Phone == phone).Select(c => c.Id)
            .Concat(db.CustomerPhones.Where(p => p.Phone == phone).Select(p => p.CustomerId))
            .ToListAsync(ct)).Select(id => (long?)id).FirstOrDefault();

    // The phones of each of the customers (those that exist), the primary one first, then the
    // others as they were added: two index reads, whatever the number of customers.
    public static async Task<Dictionary<long, List<string>>> PhonesOfAsync(CrmDbContext db, long[] ids, CancellationToken ct)
    {
        var phones = await db.Customers.Where(c => ids.Contains(c.Id))
            .ToDictionaryAsync(c => c.Id, c => new List<string> { c.Phone }, ct);
        var others = await db.CustomerPhones.Where(p => ids.Contains(p.CustomerId))
            .OrderBy(p => p.AddedAt).ThenBy(p => p.Phone).Select(p => new { p.CustomerId, p.Phone }).ToListAsync(ct);
        foreach (var other in others)
            phones.GetValueOrDefault(other.CustomerId)?.Add(other.Phone);
        return phones;
    }

    // A customer's other phones as they were added (a query: a read's projection includes it).
    public static IQueryable<string> OtherPhonesOf(CrmDbContext db, long id) =>
        db.CustomerPhones.Where(p => p.CustomerId == id).OrderBy(p => p.AddedAt).ThenBy(p => p.Phone).Select(p => p.Phone);
}
