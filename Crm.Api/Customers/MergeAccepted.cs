namespace Crm.Api.Customers;

// A merge or unmerge done: its id, and the job that brings the customers' statistics and
// categories up to date (GET statusUrl).
public sealed record MergeAccepted(long MergeId, string JobId, string StatusUrl);
