namespace Crm.Api.Customers;

// PATCH: a field left out (or sent as null) keeps its value; "" clears an optional field.
public sealed record CustomerPatchRequest(
    string? Name, string? Phone, string? Email, string? City, string? Address, string? Notes) : ICustomerFields;
