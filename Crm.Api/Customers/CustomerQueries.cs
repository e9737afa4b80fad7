using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Customers;

// The customer reads other routes share (the original routes go by a customer's phone too).
public sealed class CustomerQueries(CrmDbContext db)
{
    // A customer's identity, which its orders go by; null if there is no such customer.
    public Task<string?> PhoneOfAsync(long id, CancellationToken ct) =>
        db.Customers.Where(c => c.Id == id).Select(c => c.Phone).FirstOrDefaultAsync(ct);

    public Task<bool> ExistsAsync(long id, CancellationToken ct) => db.Customers.AnyAsync(c => c.Id == id, ct);
}
