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

    // Set when a load wrote orders for very many phones at once (the shop's first snapshot,
    // straight into orders): one full auto sync makes their customers instead of a request per
    // phone. Committed with those orders; cleared by the full sync that saw it (SyncJobs), and
    // the sweeper queues that sync again if the process died before it did.
    public DateTime? FullSyncRequestedAt { get; set; }
}
