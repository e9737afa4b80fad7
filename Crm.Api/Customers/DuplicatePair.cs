namespace Crm.Api.Customers;

// Two customers that are likely one person, and why: "email", "nameAndCity" or both.
public sealed record DuplicatePair(IReadOnlyList<string> Reasons, IReadOnlyList<CustomerResponse> Customers);
