namespace Crm.Jobs.Sync;

// A sync run's counts, as its job returns them. RunId names the run's sync_runs row
// (GET /api/sync/runs), e.g. to revert it; null where no run was recorded.
public sealed record SyncCounts(
    int CreatedCount, int UpdatedCount, int UnchangedCount, int SkippedCount, int ErrorCount,
    int TotalCustomers, long DurationMs, long? RunId = null);
