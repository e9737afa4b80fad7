namespace Crm.Api.Customers;

public sealed record CustomerPhoneRequest(string? Phone);
