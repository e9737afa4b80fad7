using System.Security.Claims;
using Crm.Api.Auth;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Customers;

// Adding a note, as POST /api/customers/{id}/notes and the dashboard's customer card do it:
// the caller's key name is its author.
public static class CustomerNotes
{
    // The note as stored; null if there is no such customer.
    public static async Task<NoteResponse?> AddAsync(
        CrmDbContext db, long customerId, string text, ClaimsPrincipal author, TimeProvider clock, CancellationToken ct)
    {
        var note = new CustomerNote
        {
            CustomerId = customerId,
            Note = text,
            CreatedBy = Caller.NameOf(author),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        db.CustomerNotes.Add(note);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation })
        {
            // The customer does not exist (or was deleted a moment ago): the foreign key decides.
            db.ChangeTracker.Clear();
            return null;
        }
        return NoteResponse.From(note);
    }
}
