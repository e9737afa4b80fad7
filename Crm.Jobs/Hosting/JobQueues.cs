namespace Crm.Jobs.Hosting;

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
