namespace Crm.Api.Privacy;

// An erasures row as the receipts read it (the phone column is never selected).
public sealed record ErasureRow(
    long Id, string RequestedBy, DateTime RequestedAt, DateTime? CompletedAt, long? CustomerId, string? JobId, string? Counts);
