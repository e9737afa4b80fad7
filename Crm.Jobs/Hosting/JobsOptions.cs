namespace Crm.Jobs.Hosting;

public enum AppRole
{
    All,
    Api,
    Worker,
}

public sealed class JobsOptions
{
    public const string Section = "Crm:Jobs";

    // Workers serving per-customer jobs in this process (the bulk queue always has one).
    public int WorkerCount { get; set; } = Math.Max(4, Environment.ProcessorCount * 2);

    // Fallback poll when no LISTEN/NOTIFY wake-up arrives; jobs normally start within milliseconds.
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(2);

    // With sliding invisibility a live worker keeps extending its claim, so a killed
    // worker's job becomes visible to others again after this long, not after 30 minutes.
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(1);

    // How often scheduled jobs (retries after a failure) are moved to their queue.
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromSeconds(5);

    // How often a process with job servers sends `NOTIFY new_job` (see ListenerNudge).
    public TimeSpan ListenerNudgeInterval { get; set; } = TimeSpan.FromSeconds(5);

    // How often the one process that publishes crm_customers counts them (see CustomerCountPublisher).
    public TimeSpan CustomerCountInterval { get; set; } = TimeSpan.FromSeconds(30);
}

public static class JobQueues
{
    public const string Default = "default";

    // Full syncs, pending batches and category recalculation: one at a time per process,
    // so a waiting full sync never holds a worker that per-customer jobs need.
    public const string Bulk = "bulk";

    // Webhook deliveries, on workers of their own (Crm:Webhooks:WorkerCount): a receiver that
    // is slow to answer holds one of them, never a sync's.
    public const string Webhooks = "webhooks";
}
