using System.Text.RegularExpressions;
using Crm.Tests.Infrastructure;
using Crm.Tests.Webhooks;

namespace Crm.Tests.Security;

// /metrics answers anyone: Npgsql's pool metrics name our pools, never a connection string
// (host, port, database, user), and carry no server address (docs/SECURITY.md).
public class MetricsPoolNamesTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private static readonly string[] Ours = ["crm-requests", "crm-jobs", "crm-locks", "crm-reads", "shop", "other"];

    [Fact]
    public async Task PoolMetricsNameThePoolsAndNotTheServer()
    {
        var client = factory.CreateClient();
        var anonymous = factory.CreateClient(key: null);
        // A real Kestrel in the process (the app under test runs on a test server): its
        // connection metrics carry the address it listens on.
        await using var receiver = await WebhookReceiver.StartAsync();
        using (var http = new HttpClient())
            await http.GetAsync(receiver.Url);
        // The requests' pool (the write), the jobs' pool (its sync), Hangfire's own connections.
        var order = await client.PostAsync("/api/orders", System.Net.Http.Json.JsonContent.Create(
            new { customerName = "Метрика", customerPhone = TestPhones.New(), totalAmount = 10, status = "completed" }));
        await client.JobAsync((string)(await order.ReadJsonAsync())["syncJobId"]!);

        var metrics = await Waiting.UntilAsync(async () => await (await anonymous.GetAsync("/metrics")).Content.ReadAsStringAsync(),
            text => text.Contains("pool_name=\"crm-requests\"") && text.Contains("pool_name=\"crm-jobs\""),
            "both pools in /metrics");

        Assert.Matches("db_client_connection_count\\{[^}]*pool_name=\"crm-requests\"", metrics);
        Assert.Contains("db_client_operation_duration_seconds_bucket{", metrics);
        var names = Regex.Matches(metrics, "pool_name=\"([^\"]*)\"").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.All(names, name => Assert.Contains(name, Ours));
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(factory.ConnectionString);
        foreach (var secret in new[] { "Host=", "Username=", "server_address", "server_port", connection.Database!, $"Port={connection.Port}" })
            Assert.DoesNotContain(secret, metrics);
    }
}
