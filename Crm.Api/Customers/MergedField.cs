namespace Crm.Api.Customers;

// A contact field of the merged customer and the customer it comes from (null: empty in all).
public sealed record MergedField(string Value, long? CustomerId);
