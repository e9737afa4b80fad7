namespace Crm.Jobs.Sync;

public enum SyncMode
{
    Auto,
    Default,
    Force,
    StatsOnly,
}

public enum SyncRunStatus
{
    Running,
    Succeeded,
    Failed,
}

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
}
