using System.Globalization;
using Crm.Api.Reads;
using Crm.Api.Sync;
using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using Npgsql;

namespace Crm.Api.Dashboard;

// The dashboard's pictures, each an inline <svg> (SvgChart) drawn from the service's own data,
// for any dashboard page to place: the Syncs page shows all four. Each takes the request's
// services (Hangfire renders its pages synchronously: the reads are waited for). What each
// shows and from which data: docs/OPERATIONS.md (the dashboard's pictures).
public static class DashboardPictures
{
    public const int CategoryDays = 90;
    public const int DurationRuns = 200;
    public const int FreshnessWrites = 500;
    private static readonly TimeSpan FreshnessWindow = TimeSpan.FromHours(24);
    private const int BacklogHours = 24;

    // Customers per category at the end of each of the last 90 days (CategoryHistory).
    public static string CustomersPerCategory(IServiceProvider services)
    {
        var time = services.GetRequiredService<DashboardTime>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var days = CategoryHistory.ReadAsync(services.GetRequiredService<ReadSource>().DataSource, time, now, CategoryDays, CancellationToken.None)
            .GetAwaiter().GetResult();
        var labels = days.Select(d => d.Day.ToString("MM-dd", CultureInfo.InvariantCulture)).ToList();
        var series = days[0].Customers.Keys
            .Select(category => new ChartSeries(category, days.Select(d => (double)d.Customers[category]).ToList()))
            .ToList();
        return SvgChart.Lines("picture-categories",
            $"Customers per category at the end of each day, the last {CategoryDays} days ({time.ZoneName}), from the change ledger",
            labels, series, "customers");
    }

    // The newest runs' durations, a colour per mode (failed and abandoned runs apart).
    public static string SyncRunDurations(IServiceProvider services)
    {
        var time = services.GetRequiredService<DashboardTime>();
        var (runs, _) = services.GetRequiredService<SyncQueries>().NewestRunsAsync(DurationRuns, CancellationToken.None).GetAwaiter().GetResult();
        var finished = runs.Where(r => r.Status != SyncRunStatus.Running).ToList();
        var points = finished.Select(r => new ChartPoint(r.StartedAt, Math.Max(1, r.DurationMs),
            r.Status == SyncRunStatus.Succeeded ? EnumText.ToText(r.Mode) + (r.DryRun ? " (dry run)" : "") : EnumText.ToText(r.Status))).ToList();
        var from = finished.Count == 0 ? default : finished.Min(r => r.StartedAt);
        var to = finished.Count == 0 ? default : finished.Max(r => r.StartedAt);
        return SvgChart.Dots("picture-sync-durations",
            $"Duration of the newest {DurationRuns} finished sync runs by start ({time.ZoneName}), a colour per mode",
            from, to, points, at => time.Format(at)[5..16], "duration (log)", "No finished sync runs yet.");
    }

    // How long after a write its customer was exact (FreshnessHistory), and what waits now.
    public static string WriteToExact(IServiceProvider services)
    {
        var time = services.GetRequiredService<DashboardTime>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var freshness = FreshnessHistory.ReadAsync(services.GetRequiredService<ReadSource>().DataSource, now - FreshnessWindow,
            FreshnessWrites, CancellationToken.None).GetAwaiter().GetResult();
        var points = freshness.Exact.Select(e => new ChartPoint(e.WrittenAt, Math.Max(1, e.ToExact.TotalMilliseconds), "write → exact")).ToList();
        var waiting = freshness.Pending == 0
            ? "no write waits for a sync"
            : $"{Plural.Of(freshness.Pending, "customer")} wait for a sync, the oldest write since {time.Format(freshness.OldestPendingAt ?? now)}";
        var p50 = Percentile(freshness.Exact, 0.5);
        var p99 = Percentile(freshness.Exact, 0.99);
        var summary = freshness.Exact.Count == 0 ? "" : $"p50 {SvgChart.Duration(p50)}, p99 {SvgChart.Duration(p99)}; ";
        return SvgChart.Dots("picture-freshness",
            $"Write → exact: the newest write of each customer synced in the last {FreshnessWindow.TotalHours:0} hours (at most {FreshnessWrites}) " +
            $"by write time ({time.ZoneName}) and the time until a sync made it exact; {summary}now {waiting}",
            now - FreshnessWindow, now, points, at => time.Format(at)[11..16], "until exact (log)", $"No write synced in the last {FreshnessWindow.TotalHours:0} hours; now {waiting}.");
    }

    // Webhook events pending (not yet delivered) at each hour of the last day.
    public static string WebhookBacklog(IServiceProvider services)
    {
        var time = services.GetRequiredService<DashboardTime>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var points = Enumerable.Range(0, BacklogHours + 1).Select(h => now.AddHours(h - BacklogHours)).ToArray();
        var pending = WebhookBacklogHistory.ReadAsync(services.GetRequiredService<ReadSource>().DataSource, points, CancellationToken.None)
            .GetAwaiter().GetResult();
        var labels = points.Select(p => time.Format(p)[11..16]).ToList();
        return SvgChart.Lines("picture-webhook-backlog",
            $"Webhook events pending (occurred, not yet delivered) each hour of the last {BacklogHours} hours ({time.ZoneName}), all subscriptions",
            labels, [new ChartSeries("pending events", pending.Select(p => (double)p).ToList())], "events");
    }

    private static double Percentile(IReadOnlyList<(DateTime, TimeSpan ToExact)> exact, double q)
    {
        if (exact.Count == 0)
            return 0;
        var sorted = exact.Select(e => e.ToExact.TotalMilliseconds).Order().ToList();
        return sorted[(int)Math.Ceiling(q * sorted.Count) - 1];
    }
}
