using System.Diagnostics;
using System.Diagnostics.Metrics;
using Crm.Jobs.Sync;
using Npgsql;

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

    // From a per-customer job (milliseconds) to a full sync of millions of orders (seconds).
    private static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    };

    public CrmMetrics(IMeterFactory meters, NpgsqlDataSource dataSource)
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
        // Read at scrape time: one indexed GROUP BY, so the gauge is always the database's truth.
        meter.CreateObservableGauge("crm_customers", () => CountByCategory(dataSource), description: "Customers per category");
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

    public void JobFinished(string job, TimeSpan duration, bool failed)
    {
        _jobDuration.Record(duration.TotalSeconds, new TagList { { "job", job }, { "outcome", failed ? "failed" : "succeeded" } });
        if (failed)
            _jobFailures.Add(1, new TagList { { "job", job } });
    }

    public void Imported(int imported, int rejected)
    {
        _importRows.Add(imported, new TagList { { "outcome", "imported" } });
        _importRows.Add(rejected, new TagList { { "outcome", "rejected" } });
    }

    private static IEnumerable<Measurement<long>> CountByCategory(NpgsqlDataSource dataSource)
    {
        var measurements = new List<Measurement<long>>();
        using var command = dataSource.CreateCommand("SELECT category, count(*) FROM customers GROUP BY category");
        using var reader = command.ExecuteReader();
        while (reader.Read())
            measurements.Add(new Measurement<long>(reader.GetInt64(1), new KeyValuePair<string, object?>("category", reader.GetString(0))));
        return measurements;
    }
}
