namespace Crm.Api.Privacy;

// 202 to an erase: the receipt's id, the job that erases, and where to watch it.
public sealed record ErasureAccepted(long ErasureId, string JobId, string StatusUrl);
