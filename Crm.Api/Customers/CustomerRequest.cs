namespace Crm.Api.Customers;

// POST and PUT: the editable fields only; statistics, category, id and timestamps are
// computed, and sending them is a 400 (unknown JSON members are rejected).
public sealed record CustomerRequest(
    string? Name, string? Phone, string? Email, string? City, string? Address, string? Notes) : ICustomerFields;
