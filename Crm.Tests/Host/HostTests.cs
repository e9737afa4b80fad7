using System.Net;
using Crm.Tests.Infrastructure;
using Npgsql;

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
            new { name = "Метрика", phone = "+7999" + Random.Shared.Next(1_000_000, 9_999_999) }));
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

public class ReadinessWithoutDatabaseTests : IAsyncLifetime
{
    private readonly UnreachableDatabaseFactory _factory = new();

    private sealed class UnreachableDatabaseFactory : CrmApiFactory
    {
        // A port nothing listens on: the database is "down" from the first request.
        public override string ConnectionString => "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2";

        public override Task InitializeAsync() => Task.CompletedTask;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _factory.DisposeAsync().AsTask();

    [Fact]
    public async Task ReadinessFailsButLivenessStaysUpWhenTheDatabaseIsUnreachable()
    {
        var client = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        await (await client.GetAsync("/api/customers/1")).AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
    }
}

public class MigrateCommandTests
{
    [Fact]
    public async Task MigrateCreatesTheSchemaInAnEmptyDatabaseAndExitsZero()
    {
        var database = $"crm_migrate_{Guid.NewGuid():N}";
        await TestDatabase.CreateEmptyAsync(database);
        try
        {
            var connectionString = TestDatabase.ConnectionStringFor(database);
            var (exitCode, output) = await AppProcess.RunAsync(connectionString, TimeSpan.FromMinutes(2), "migrate");
            Assert.True(exitCode == 0, output);

            // Running it again is a no-op that also succeeds.
            var (secondExit, secondOutput) = await AppProcess.RunAsync(connectionString, TimeSpan.FromMinutes(2), "migrate");
            Assert.True(secondExit == 0, secondOutput);

            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('customers', 'orders', 'customer_notes', 'sync_runs')",
                connection);
            Assert.Equal(4L, await command.ExecuteScalarAsync());
        }
        finally
        {
            await TestDatabase.DropAsync(database);
        }
    }

    [Fact]
    public async Task StartingWithoutAConnectionStringFailsWithAClearMessage()
    {
        var (exitCode, output) = await AppProcess.RunAsync("", TimeSpan.FromMinutes(2), "migrate");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("ConnectionStrings__Crm", output);
    }
}

// Readiness finds this process's job servers by Hangfire's server ids, which Hangfire
// lower-cases: a host named with capitals must still find its own.
public class ServerIdTests
{
    [Theory]
    [InlineData("myhost-default:4242:0f4c2a", "MyHost", 4242, true)]
    [InlineData("myhost-bulk:4242:0f4c2a", "myhost", 4242, true)]
    [InlineData("myhost-default:4243:0f4c2a", "MyHost", 4242, false)]
    [InlineData("otherhost-default:4242:0f4c2a", "MyHost", 4242, false)]
    public void AServerIsThisProcessWhateverTheCaseOfTheMachineName(string serverId, string machine, int pid, bool mine) =>
        Assert.Equal(mine, Crm.Api.Health.HangfireHealthCheck.IsServerOf(serverId, machine, pid));
}
