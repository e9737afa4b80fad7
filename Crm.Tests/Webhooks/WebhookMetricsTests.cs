using System.Globalization;
using System.Text.RegularExpressions;
using Crm.Tests.Infrastructure;
using Crm.Tests.Reliability;

namespace Crm.Tests.Webhooks;

// crm_webhook_deliveries_total and the backlog gauges as Prometheus scrapes them. The worker
// is a process of its own, as in production: hosts inside the test process would see each
// other's meters, and another test's deliveries would count here.
public partial class WebhookMetricsTests(WebhookMetricsTests.ApiFactory api) : IClassFixture<WebhookMetricsTests.ApiFactory>
{
    // The API alone: it enqueues the delivery; the worker process sends, counts and publishes.
    public sealed class ApiFactory : WebhookCrmApiFactory
    {
        protected override IEnumerable<(string Key, string Value)> Settings => [("Crm:Role", "api")];
    }

    private static readonly (string, string)[] WorkerSettings =
    [
        // Plain http to a receiver on loopback.
        ("ASPNETCORE_ENVIRONMENT", "Development"),
        // The backlog gauges are counted with crm_customers, every interval.
        ("Crm__Jobs__CustomerCountInterval", "00:00:00.2"),
        // The first retry comes due after 5 s: move it to its queue promptly.
        ("Crm__Jobs__SchedulePollingInterval", "00:00:01"),
        ("Crm__Webhooks__PollInterval", "00:00:01"),
    ];

    [Fact]
    public async Task AFailedAndADeliveredAttemptAreCountedAndTheBacklogRisesAndEmpties()
    {
        await using var worker = WorkerProcess.Start(api.ConnectionString, WorkerSettings);
        await worker.WaitReadyAsync(TimeSpan.FromMinutes(3));
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{worker.Port}") };
        var client = api.CreateClient();

        await using var receiver = await WebhookReceiver.StartAsync();
        var recovered = new TaskCompletionSource();
        receiver.Answer = (_, _) => Task.FromResult(recovered.Task.IsCompleted ? 200 : 500);
        // An event type nothing in this database sends: the test event is the only one.
        var subscription = await client.SubscribeAsync(receiver, "customer.deleted");
        var test = await (await client.PostAsync($"/api/webhooks/{subscription.Id}/test", null)).ReadJsonAsync();

        // A failed attempt: its message waits for the retry, and the gauges say so.
        var failing = await ScrapeUntilAsync(metrics,
            s => s.Value("crm_webhook_deliveries_total", "failed") >= 1 && s.Value("crm_webhook_pending_events") == 1
                 && s.Value(OldestPendingAge) is not null,
            "a failed delivery and one pending event");
        Assert.Null(failing.Value("crm_webhook_deliveries_total", "delivered"));
        Assert.InRange(failing.Value(OldestPendingAge)!.Value, 0, 300);

        recovered.SetResult();
        await client.JobAsync((string)test["jobId"]!);
        var delivered = await ScrapeUntilAsync(metrics,
            s => s.Value("crm_webhook_deliveries_total", "delivered") == 1 && s.Value("crm_webhook_pending_events") == 0,
            "the delivery and an empty backlog");
        // Nothing waits, so no age is published.
        Assert.Null(delivered.Value(OldestPendingAge));
        // Every attempt the receiver saw is counted, once.
        Assert.Equal<double?>(receiver.Received.Count, delivered.Value("crm_webhook_deliveries_total", "failed") + 1);
        await client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    // The gauge has unit "s": the exporter names it with the unit's suffix.
    private const string OldestPendingAge = "crm_webhook_oldest_pending_age_seconds";

    private static Task<Scrape> ScrapeUntilAsync(HttpClient metrics, Func<Scrape, bool> done, string what) =>
        Waiting.UntilAsync(async () => Scrape.Parse(await metrics.GetStringAsync("/metrics")), done, what);

    // The crm_webhook_* series of one scrape: "name" or "name{outcome}" → value.
    private sealed partial record Scrape(Dictionary<string, double> Series)
    {
        public double? Value(string name, string? outcome = null) =>
            Series.TryGetValue(outcome is null ? name : $"{name}{{{outcome}}}", out var value) ? value : null;

        public static Scrape Parse(string text) => new(SeriesLine().Matches(text).ToDictionary(
            m => m.Groups["name"].Value + (OutcomeLabel().Match(m.Groups["labels"].Value) is { Success: true } o ? $"{{{o.Groups[1].Value}}}" : ""),
            m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));

        public override string ToString() =>
            string.Join(", ", Series.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key}={s.Value}"));

        [GeneratedRegex("""^(?<name>crm_webhook_\w+)(?:\{(?<labels>[^}]*)\})? (?<value>[^ \n]+)""", RegexOptions.Multiline)]
        private static partial Regex SeriesLine();

        [GeneratedRegex(@"outcome=""(\w+)""")]
        private static partial Regex OutcomeLabel();
    }
}
