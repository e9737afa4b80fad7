namespace Crm.Jobs.Orders;

// Skipped: valid orders of erased people, from before their erase (docs/PRIVACY.md).
public sealed record ImportResult(int Imported, int Rejected, int Skipped, IReadOnlyList<ImportError> Errors, int CustomersAffected);
