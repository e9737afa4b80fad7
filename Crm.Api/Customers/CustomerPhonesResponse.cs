namespace Crm.Api.Customers;

// A customer's phones, the primary one first; syncJobId: the job that recounts its orders
// (null when nothing changed).
public sealed record CustomerPhonesResponse(long CustomerId, IReadOnlyList<string> Phones, string? SyncJobId);
