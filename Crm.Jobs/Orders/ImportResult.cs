namespace Crm.Jobs.Orders;

public sealed record ImportResult(int Imported, int Rejected, IReadOnlyList<ImportError> Errors, int CustomersAffected);
