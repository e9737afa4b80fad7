using Crm.Jobs.Customers;

namespace Crm.Api.Customers;

public sealed record NoteResponse(long Id, long CustomerId, string Note, string CreatedBy, DateTime CreatedAt)
{
    public static NoteResponse From(CustomerNote n) => new(n.Id, n.CustomerId, n.Note, n.CreatedBy, n.CreatedAt);
}
