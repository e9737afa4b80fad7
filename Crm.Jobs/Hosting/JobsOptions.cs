namespace Crm.Jobs.Hosting;

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

    // How often the one process that publishes crm_customers counts them (see GaugePublisher).
    public TimeSpan CustomerCountInterval { get; set; } = TimeSpan.FromSeconds(30);
}
