namespace Crm.Jobs.Sync;

public class SyncRun
{
    public long Id { get; set; }
    public string? JobId { get; set; }
    public SyncMode Mode { get; set; }
    public SyncRunStatus Status { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    public int CreatedCount { get; set; }
    public int UpdatedCount { get; set; }
    public int UnchangedCount { get; set; }
    public int SkippedCount { get; set; }
    public int ErrorCount { get; set; }
    public int TotalCustomers { get; set; }
    public long DurationMs { get; set; }
    public string? Error { get; set; }

    // A dry run: its statements ran and were rolled back; nothing of it was written.
    public bool DryRun { get; set; }

    // Changes per ledger field ({"email": 12, "statistics": 40, …}), recorded when it succeeds.
    public string? Changes { get; set; }

    // The revert of this run: its job, and when it finished.
    public string? RevertJobId { get; set; }
    public DateTime? RevertedAt { get; set; }

    // PostgreSQL backend pid of the session that holds the run's lock while it runs.
    public int? HolderPid { get; set; }
}
