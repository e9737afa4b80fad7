using System.Net;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Host;

public class HostTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task LivenessAnswersWithoutTouchingTheDatabase()
    {
        var response = await _client.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", (string)(await response.ReadJsonAsync())["status"]!);
    }

    [Fact]
    public async Task ReadinessReportsTheDatabaseAndTheJobServers()
    {
        // The job servers announce themselves a moment after start.
        var response = await Waiting.UntilAsync(() => _client.GetAsync("/health/ready"),
            r => r.StatusCode == HttpStatusCode.OK, "the app to become ready");
        var body = await response.ReadJsonAsync();
        Assert.Equal("Healthy", (string)body["checks"]!["database"]!["status"]!);
        Assert.Equal("Healthy", (string)body["checks"]!["jobs"]!["status"]!);
    }

    [Fact]
    public async Task MetricsShowTheServicesOwnSeriesMovingWhenASyncRuns()
    {
        var anonymous = factory.CreateClient(key: null);
        // A customer, so that crm_customers has a series to show even in a database of its own.
        await _client.PostAsync("/api/customers", System.Net.Http.Json.JsonContent.Create(
            new { name = "Метрика", phone = TestPhones.New() }));
        var sync = await (await _client.PostAsync("/api/sync", System.Net.Http.Json.JsonContent.Create(new { mode = "statsOnly" }))).ReadJsonAsync();
        await _client.JobAsync((string)sync["jobId"]!);

        var metrics = await Waiting.UntilAsync(async () => await (await anonymous.GetAsync("/metrics")).Content.ReadAsStringAsync(),
            text => text.Contains("crm_sync_runs_total{") && text.Contains("mode=\"statsOnly\""), "the sync to show in /metrics");
        Assert.Contains("outcome=\"succeeded\"", metrics);
        Assert.Contains("crm_customers{", metrics);
        Assert.Contains("crm_job_duration", metrics);
        // Prometheus sets `job` itself when it scrapes: ours is job_name.
        Assert.Matches("crm_job_duration_seconds_count\\{[^}]*job_name=\"SyncJobs\\.", metrics);
        Assert.DoesNotMatch("crm_job_\\w+\\{(job|[^}]*,job)=", metrics);
        Assert.Contains("http_server_request_duration", metrics);
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheCustomerRoutes()
    {
        var document = await (await _client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var paths = document["paths"]!.AsObject();
        Assert.Contains("/api/customers", paths.Select(p => p.Key));
        Assert.Contains("/api/customers/{id}", paths.Select(p => p.Key));
        Assert.Contains("/api/customers/{id}/notes", paths.Select(p => p.Key));
        Assert.NotNull(paths["/api/customers"]!["post"]!["responses"]!["400"]);
        Assert.NotNull(paths["/api/customers"]!["post"]!["responses"]!["409"]);
    }

    [Fact]
    public async Task ScalarServesTheApiReference()
    {
        var response = await _client.GetAsync("/scalar");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("openapi/v1.json", await response.Content.ReadAsStringAsync());
    }
}
