namespace Crm.Api.Privacy;

// GET /api/privacy/export?phone=…
public sealed record ExportQuery(string? Phone);
