namespace Crm.Jobs.Hosting;

public sealed class JobsOptions
{
    public const string Section = "Crm:Jobs";

    // Workers serving per-customer jobs in this process (the bulk queue always has one).
    public int WorkerCount { get; set; } = Math.Max(4, Environment.ProcessorCount * 2);

    // Fallback poll when no wake-up arrives (a NOTIFY, or in role `all` an enqueue of this
    // process); jobs normally start within milliseconds.
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(2);

    // Hangfire.PostgreSql's fetch: one `UPDATE … FOR UPDATE SKIP LOCKED` in a transaction
    // (true), or a read and then an optimistic update that every woken worker races for
    // (false, the library's default). Only with true does an enqueue in this process wake
    // exactly one waiting worker of the job's queue (docs/BENCHMARKS.md, issue 23).
    public bool UseNativeDatabaseTransactions { get; set; } = true;

    // LISTEN/NOTIFY: each enqueue notifies every waiting worker of every process, whatever
    // its queue, and each worker's fetch holds a listening connection of its own. Unset:
    // on for the roles `api` and `worker` (the job is enqueued in one process and run in
    // another), off for `all`, whose own enqueues wake its own workers directly.
    public bool? EnableLongPolling { get; set; }

    public bool LongPollingFor(AppRole role) => EnableLongPolling ?? role is not AppRole.All;

    // With sliding invisibility a live worker keeps extending its claim, so a killed
    // worker's job becomes visible to others again after this long, not after 30 minutes.
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(1);

    // A Hangfire lock row older than this counts as abandoned (Hangfire.PostgreSql's default
    // is 10 minutes). Hangfire holds its locks for milliseconds (a job's state change, the
    // scheduler's pass), but a lock whose release failed because the database went away
    // stays behind: a job whose state lock is left so shows `Processing` and cannot move on
    // until the row expires.
    public TimeSpan DistributedLockTimeout { get; set; } = TimeSpan.FromMinutes(1);

    // How often scheduled jobs (retries after a failure) are moved to their queue.
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromSeconds(5);

    // How often a process with job servers sends `NOTIFY new_job` (see ListenerNudge).
    public TimeSpan ListenerNudgeInterval { get; set; } = TimeSpan.FromSeconds(5);

    // How often the one process that publishes crm_customers counts them (see GaugePublisher).
    public TimeSpan CustomerCountInterval { get; set; } = TimeSpan.FromSeconds(30);
}
