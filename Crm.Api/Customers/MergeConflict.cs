namespace Crm.Api.Customers;

// A contact field the merged customers hold different values of; the merge keeps the
// target's (or the first source's with one), the others stay in the ledger of the sources.
public sealed record MergeConflict(string Field, IReadOnlyList<MergedField> Values);
