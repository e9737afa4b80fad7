using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Crm.Jobs.Customers;
using Crm.Jobs.Sync;

namespace Crm.Jobs.Hosting;

// The service's own metrics (exported as Prometheus `crm_*` series by the host).
public sealed class CrmMetrics
{
    public const string MeterName = "Crm";

    private readonly Counter<long> _syncRuns;
    private readonly Histogram<double> _syncDuration;
    private readonly Counter<long> _customersCreated;
    private readonly Counter<long> _customersUpdated;
    private readonly Histogram<double> _jobDuration;
    private readonly Counter<long> _jobFailures;
    private readonly Counter<long> _importRows;
    private readonly Counter<long> _customersRefused;
    private readonly Counter<long> _shopApplied;
    private readonly Counter<long> _shopRejected;
    private readonly Counter<long> _webhookDeliveries;
    private readonly Counter<long> _reads;

    // Set by ReplicaWatch where Crm:Database:ReadConnectionString names a standby; null elsewhere.
    private volatile StrongBox<double>? _readLag;

    // Set by the process that follows the shop (ShopFollower); null elsewhere.
    private volatile StrongBox<long>? _shopLag;

    // From a per-customer job (milliseconds) to a full sync of millions of orders (seconds).
    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    };

    // Set by GaugePublisher with crm_customers; null elsewhere.
    private volatile WebhookBacklog? _webhookPending;

    // Set by GaugePublisher in the one process that publishes crm_customers; empty elsewhere.
    private volatile Measurement<long>[] _customersByCategory = [];

    public CrmMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _syncRuns = meter.CreateCounter<long>("crm_sync_runs", description: "Sync runs by mode and outcome");
        _syncDuration = meter.CreateHistogram<double>("crm_sync_duration", "s", "Duration of sync runs", advice: SecondsBuckets);
        _customersCreated = meter.CreateCounter<long>("crm_customers_created", description: "Customers created by syncs");
        _customersUpdated = meter.CreateCounter<long>("crm_customers_updated", description: "Customers changed by syncs");
        _jobDuration = meter.CreateHistogram<double>("crm_job_duration", "s", "Duration of Hangfire jobs by job", advice: SecondsBuckets);
        _jobFailures = meter.CreateCounter<long>("crm_job_failures", description: "Failed Hangfire job attempts by job");
        _importRows = meter.CreateCounter<long>("crm_import_rows", description: "Imported order lines by outcome");
        _customersRefused = meter.CreateCounter<long>("crm_sync_customer_errors",
            description: "Customers a sync could not write (skipped, recorded in sync_errors, retried later) by SQLSTATE");
        _shopApplied = meter.CreateCounter<long>("crm_shop_orders_applied",
            description: "Shop order changes applied from the shop's database, by op (snapshot, insert, update, delete)");
        _shopRejected = meter.CreateCounter<long>("crm_shop_rejected", description: "Shop rows skipped as invalid (GET /api/shop/rejections)");
        _webhookDeliveries = meter.CreateCounter<long>("crm_webhook_deliveries",
            description: "Webhook messages sent (HTTP requests) by outcome: delivered (2xx) or failed");
        _reads = meter.CreateCounter<long>("crm_reads",
            description: "Requests whose reads went to the standby (Crm:Database:ReadConnectionString) or to the primary");
        meter.CreateObservableGauge("crm_read_lag",
            () => _readLag is { } lag ? [new Measurement<double>(lag.Value)] : Array.Empty<Measurement<double>>(), "s",
            "How far the reads' standby was behind the primary at its last check (absent when it did not answer)");
        meter.CreateObservableGauge("crm_webhook_pending_events",
            () => _webhookPending is { } p ? [new Measurement<long>(p.Events)] : Array.Empty<Measurement<long>>(),
            description: "Webhook events not yet delivered, published by one process of the cluster");
        meter.CreateObservableGauge("crm_webhook_oldest_pending_age", () => _webhookPending is { OldestAge: { } age }
                ? [new Measurement<double>(age.TotalSeconds)] : Array.Empty<Measurement<double>>(), "s",
            "Age of the oldest undelivered webhook event (absent when none waits), published by one process of the cluster");
        meter.CreateObservableGauge("crm_shop_lag_bytes",
            () => _shopLag is { } lag ? [new Measurement<long>(lag.Value)] : Array.Empty<Measurement<long>>(),
            description: "WAL the shop's database keeps for the follower's slot (bytes), from the following process");
        // A scrape reads the last count and never touches the database; one process publishes
        // it (GaugePublisher), so a sum over instances is the database's total.
        meter.CreateObservableGauge("crm_customers", () => _customersByCategory,
            description: "Customers per category, published by one process of the cluster");
    }

    public void SyncFinished(SyncMode mode, SyncCounts counts, bool succeeded)
    {
        var tags = new TagList { { "mode", Data.EnumText.ToText(mode) }, { "outcome", succeeded ? "succeeded" : "failed" } };
        _syncRuns.Add(1, tags);
        _syncDuration.Record(counts.DurationMs / 1000.0, tags);
        if (succeeded)
        {
            _customersCreated.Add(counts.CreatedCount, new TagList { { "mode", Data.EnumText.ToText(mode) } });
            _customersUpdated.Add(counts.UpdatedCount, new TagList { { "mode", Data.EnumText.ToText(mode) } });
        }
    }

    public void CustomerRefused(string sqlState) => _customersRefused.Add(1, new TagList { { "sql_state", sqlState } });

    // job_name, not job: Prometheus sets `job` itself at scrape time (ours would become exported_job).
    public void JobFinished(string job, TimeSpan duration, bool failed)
    {
        _jobDuration.Record(duration.TotalSeconds, new TagList { { "job_name", job }, { "outcome", failed ? "failed" : "succeeded" } });
        if (failed)
            _jobFailures.Add(1, new TagList { { "job_name", job } });
    }

    public void Imported(int imported, int rejected, int skipped)
    {
        _importRows.Add(imported, new TagList { { "outcome", "imported" } });
        _importRows.Add(rejected, new TagList { { "outcome", "rejected" } });
        _importRows.Add(skipped, new TagList { { "outcome", "skipped_erased" } });
    }

    public void ShopApplied(string op, long count)
    {
        if (count > 0)
            _shopApplied.Add(count, new TagList { { "op", op } });
    }

    public void ShopRejected(long count)
    {
        if (count > 0)
            _shopRejected.Add(count);
    }

    public void WebhookDelivered(bool delivered) =>
        _webhookDeliveries.Add(1, new TagList { { "outcome", delivered ? "delivered" : "failed" } });

    public void WebhookBacklogCounted(WebhookBacklog? backlog) => _webhookPending = backlog;

    public void ReadServed(bool byStandby) => _reads.Add(1, new TagList { { "server", byStandby ? "standby" : "primary" } });

    public void ReadLag(TimeSpan? lag) => _readLag = lag is { } l ? new StrongBox<double>(l.TotalSeconds) : null;

    public void ShopLag(long? bytes) => _shopLag = bytes is { } b ? new StrongBox<long>(b) : null;

    // null: this process does not publish the gauge (another one holds the publisher's lock).
    public void CustomersCounted(IReadOnlyDictionary<CustomerCategory, long>? counts) =>
        _customersByCategory = counts is null
            ? []
            : [.. Enum.GetValues<CustomerCategory>().Select(category => new Measurement<long>(
                counts.GetValueOrDefault(category), new KeyValuePair<string, object?>("category", Data.EnumText.ToText(category))))];
}
