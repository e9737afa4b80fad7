namespace Crm.Api.Sync;

public sealed record SyncErrorResponse(
    string Phone, string SqlState, string Error, long? RunId, int Attempts,
    DateTime FirstFailedAt, DateTime LastFailedAt, DateTime RetryAt);
