namespace Crm.Jobs.Sync;

public sealed class SyncOptions
{
    public const string Section = "Crm:Sync";

    // The name of a new customer whose orders carry none.
    public string PlaceholderName { get; set; } = "Без имени";

    // The recurring `sync-default` job: a safety net for orders written around the API. Empty disables it.
    public string Cron { get; set; } = "0 2 * * *";

    // The recurring `sync-pending` job: syncs customers whose requested sync never got a job
    // (a crash between an order's commit and its enqueue). Empty disables it.
    public string PendingCron { get; set; } = "* * * * *";

    // A claimed-but-never-enqueued customer sync counts as lost after this long.
    public TimeSpan PendingClaimTimeout { get; set; } = TimeSpan.FromMinutes(2);

    // What tells a burst of order writes: a shared job claimed less than this after the last
    // pending sync started. On an idle service (claimed later) the job syncs at once.
    // Without AdaptiveWriteWindow, every shared job waits this long.
    public TimeSpan WriteBatchWindow { get; set; } = TimeSpan.FromMilliseconds(500);

    // Under a burst the shared job waits, still claimed, so that the writes arriving meanwhile
    // join it: until no write has come for WriteQuietPeriod (the burst's end costs the last
    // writer this much), or for WriteBatchMaxWait at most while writes keep coming (a
    // sustained burst costs one job per this long, and a write in it waits up to this long).
    public TimeSpan WriteQuietPeriod { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan WriteBatchMaxWait { get; set; } = TimeSpan.FromMilliseconds(1500);

    // False: the shared job waits WriteBatchWindow after it starts, idle or not (the rule
    // before issue 23; the benchmark's baseline).
    public bool AdaptiveWriteWindow { get; set; } = true;

    // Phones per transaction of a full sync (of a customers table that has rows). Order
    // writes wait at most one chunk for the bulk lock; each chunk costs a few statements.
    public int FullSyncChunkSize { get; set; } = 10_000;

    // Finished runs older than this are pruned once Hangfire no longer stores their job. One
    // day is Hangfire's own expiry of a succeeded job, so a listed run's job link still opens.
    public int RunRetentionDays { get; set; } = 1;

    // The recurring `sync-runs-prune` job: abandons runs whose holder is gone and prunes old
    // ones. Empty disables it.
    public string RunPruneCron { get; set; } = "0 * * * *";
}
