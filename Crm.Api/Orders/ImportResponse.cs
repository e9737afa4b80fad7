using Crm.Jobs.Orders;

namespace Crm.Api.Orders;

public sealed record ImportResponse(int Imported, int Rejected, IReadOnlyList<ImportError> Errors, string? JobId, string? StatusUrl);
