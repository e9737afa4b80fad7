namespace Crm.Api.Dashboard;

// The customers of each category at the end of one day (CategoryHistory).
public sealed record CategoryDay(DateOnly Day, IReadOnlyDictionary<string, int> Customers);
