namespace Crm.Api.Sync;

// Runs as SyncQueries reads them, and which of their jobs (and revert jobs) Hangfire still stores.
public sealed record SyncRunList(IReadOnlyList<SyncRunResponse> Runs, IReadOnlySet<string> StoredJobIds);
