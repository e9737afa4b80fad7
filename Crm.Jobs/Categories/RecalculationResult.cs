namespace Crm.Jobs.Categories;

public sealed record RecalculationResult(int ChangedCount, int TotalCustomers, long DurationMs);
