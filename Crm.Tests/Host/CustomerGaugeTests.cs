using System.Globalization;
using System.Text.RegularExpressions;
using Crm.Tests.Infrastructure;
using Crm.Tests.Reliability;
using Npgsql;

namespace Crm.Tests.Host;

// crm_customers counts the whole database: of several processes exactly one publishes it,
// so summing the series over instances gives the true count, and when that process is
// killed another one takes over. Real worker processes: hosts inside one test process
// would see each other's meters.
public partial class CustomerGaugeTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private static readonly (string, string)[] Settings = [("Crm__Jobs__CustomerCountInterval", "00:00:00.2")];

    [Fact]
    public async Task OneProcessPublishesTheCustomerCountsAndAnotherTakesOverWhenItIsKilled()
    {
        await InsertCustomersAsync(("new", 1), ("regular", 2), ("vip", 3));
        await using var first = WorkerProcess.Start(factory.ConnectionString, Settings);
        await using var second = WorkerProcess.Start(factory.ConnectionString, Settings);
        var workers = new[] { first, second };

        await WaitForOnePublisherAsync(workers, "inactive=0, new=1, regular=2, vip=3");

        // The count follows the database.
        await InsertCustomersAsync(("vip", 1));
        var publisher = await WaitForOnePublisherAsync(workers, "inactive=0, new=1, regular=2, vip=4");

        // Killed: its session, and the lock with it, end; the other process publishes.
        await workers[publisher].KillAsync();
        await WaitForOnePublisherAsync([workers[1 - publisher]], "inactive=0, new=1, regular=2, vip=4");
    }

    // Waits until exactly one of the processes publishes crm_customers with these counts; returns its index.
    private static async Task<int> WaitForOnePublisherAsync(WorkerProcess[] workers, string counts)
    {
        var clients = workers.Select(w => new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{w.Port}") }).ToArray();
        var seen = await Waiting.UntilAsync(
            async () => new Scrapes(await Task.WhenAll(clients.Select(ScrapeAsync))),
            scrapes => scrapes.Gauges.Count(g => g != "") == 1 && scrapes.Gauges.Contains(counts),
            $"exactly one process to publish {counts}");
        return Array.IndexOf(seen.Gauges, counts);
    }

    // The process's crm_customers series ("" when it publishes none, or is still starting).
    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        try
        {
            return Show(Gauge(await client.GetStringAsync("/metrics")));
        }
        catch (HttpRequestException)
        {
            return "";
        }
    }

    private sealed record Scrapes(string[] Gauges)
    {
        public override string ToString() => string.Join(" | ", Gauges.Select(g => g == "" ? "(none)" : g));
    }

    private static string Show(Dictionary<string, double> gauge) =>
        string.Join(", ", gauge.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}"));

    private static Dictionary<string, double> Gauge(string metrics) =>
        GaugeLine().Matches(metrics).ToDictionary(
            m => m.Groups["category"].Value, m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex("""^crm_customers\{[^}]*category="(?<category>\w+)"[^}]*\} (?<value>[0-9.eE+]+)""", RegexOptions.Multiline)]
    private static partial Regex GaugeLine();

    private int _phones;

    private async Task InsertCustomersAsync(params (string Category, int Count)[] customers)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        foreach (var (category, count) in customers)
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO customers (name, phone, email, city, address, notes, category, total_orders, total_spent,
                                       average_order, last_order_date, created_at, updated_at)
                SELECT 'Клиент', '+7997' || lpad((@first + i)::text, 7, '0'), '', '', '', '', @category, 0, 0, 0, NULL, now(), now()
                FROM generate_series(1, @count) AS i
                """, connection);
            command.Parameters.AddWithValue("first", _phones);
            _phones += count;
            command.Parameters.AddWithValue("category", category);
            command.Parameters.AddWithValue("count", count);
            await command.ExecuteNonQueryAsync();
        }
    }
}
