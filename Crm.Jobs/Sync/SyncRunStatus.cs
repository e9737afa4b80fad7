namespace Crm.Jobs.Sync;

public enum SyncRunStatus
{
    Running,
    Succeeded,
    Failed,
    // The session holding the run's lock ended before the run finished: its worker was killed
    // or lost the database. Nothing of it committed but its finished chunks; the job's retry
    // records a run of its own.
    Abandoned,
}
