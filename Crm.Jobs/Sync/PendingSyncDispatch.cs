namespace Crm.Jobs.Sync;

// The one row saying whether a job that syncs the pending requests is queued and has not
// started yet. Order writes share that job (SyncScheduler.DispatchAsync); Claim counts the
// claims, so a writer stores its job id only on the claim it made.
public class PendingSyncDispatch
{
    public const int SingletonId = 1;

    public int Id { get; set; }
    public long Claim { get; set; }
    public DateTime? EnqueuedAt { get; set; }
    public string? JobId { get; set; }

    // When the last pending sync started reading the requests (it cleared the claim then): a
    // job claimed less than Crm:Sync:WriteBatchWindow later is part of a burst and waits the window.
    public DateTime? LastSyncStartedAt { get; set; }
}
