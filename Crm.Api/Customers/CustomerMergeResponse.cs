namespace Crm.Api.Customers;

// One merge as GET /api/customers/merges lists it: ids and times, no personal data.
public sealed record CustomerMergeResponse(
    long MergeId, long TargetId, IReadOnlyList<long> SourceIds, DateTime MergedAt, string MergedBy,
    DateTime? UnmergedAt, string? UnmergedBy);
