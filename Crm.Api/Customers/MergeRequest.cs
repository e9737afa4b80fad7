namespace Crm.Api.Customers;

// The customers to merge: the sources go into the target (docs/API.md, "Merging customers").
public sealed record MergeRequest(long? TargetId, long[]? SourceIds);
