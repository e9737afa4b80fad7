namespace Crm.Api.Privacy;

// POST /api/privacy/erasures: the phone in any spelling the service accepts.
public sealed record ErasureRequest(string? Phone);
