using Crm.Jobs.Orders;

namespace Crm.Api.Orders;

// SkippedErased: valid orders of erased people, from before their erase (docs/PRIVACY.md).
public sealed record ImportResponse(
    int Imported, int Rejected, int SkippedErased, IReadOnlyList<ImportError> Errors, string? JobId, string? StatusUrl);
