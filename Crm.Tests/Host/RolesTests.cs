using System.Net;
using System.Net.Http.Json;
using Crm.Tests.Infrastructure;
using Hangfire;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Host;

// The app on its own cloned database in one role (Crm:Role).
public class RoleFactory(string role) : CrmApiFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crm:Role", role);
    }
}

public sealed class WorkerRoleFactory() : RoleFactory("worker");

public sealed class ApiRoleFactory() : RoleFactory("api");

public class WorkerRoleTests(WorkerRoleFactory factory) : IClassFixture<WorkerRoleFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task AWorkerAnswersItsHealthChecks()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/live")).StatusCode);
        // Ready once its job servers have announced themselves.
        var ready = await Waiting.UntilAsync(() => _client.GetAsync("/health/ready"),
            r => r.StatusCode == HttpStatusCode.OK, "the worker to become ready");
        var checks = (await ready.ReadJsonAsync())["checks"]!;
        Assert.Equal("Healthy", (string)checks["database"]!["status"]!);
        Assert.Equal("Healthy", (string)checks["jobs"]!["status"]!);
    }

    [Fact]
    public async Task AWorkerServesNeitherTheApiNorTheDashboard()
    {
        await (await _client.GetAsync("/api/customers")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task AWorkerRunsAServerForEachQueue()
    {
        var monitoring = factory.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        // Servers announce themselves from their own background thread, shortly after the host starts.
        var servers = await Waiting.UntilAsync(
            () => Task.FromResult(monitoring.Servers()), s => s.Count >= 3, "the three job servers to announce themselves");
        Assert.Equal(["bulk", "default", "webhooks"], servers.SelectMany(s => s.Queues).Order());
    }
}

public class ApiRoleTests(ApiRoleFactory api) : IClassFixture<ApiRoleFactory>
{
    [Fact]
    public async Task AnApiHostOnlyEnqueuesAndASeparateWorkerOnTheSameDatabaseRunsTheJob()
    {
        var client = api.CreateClient();
        var storage = api.Services.GetRequiredService<JobStorage>();

        var response = await client.PostAsJsonAsync("/api/orders", new
        {
            customerName = "Ольга Смирнова", customerPhone = "+79991234567", totalAmount = 1200m, status = "completed",
        });

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var jobId = (string)(await response.ReadJsonAsync())["syncJobId"]!;
        var queued = await (await client.GetAsync($"/api/jobs/{jobId}")).ReadJsonAsync();
        Assert.Equal("Enqueued", (string)queued["state"]!);
        Assert.Empty(storage.GetMonitoringApi().Servers());

        // A second host on the same database; the api host's fixture keeps (and drops) the database.
        await using var worker = new SharedDatabaseFactory(api, role: "worker");
        // The first request starts the worker's host and with it its job servers.
        Assert.Equal(HttpStatusCode.OK, (await worker.CreateClient().GetAsync("/health/live")).StatusCode);

        var job = await client.JobAsync(jobId);
        Assert.Equal(1, (int)job["result"]!["createdCount"]!);
        Assert.NotEmpty(storage.GetMonitoringApi().Servers());
        await using var db = api.CreateDbContext();
        var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Phone == "+79991234567");
        Assert.Equal(("Ольга Смирнова", 1, 1200m), (customer.Name, customer.TotalOrders, customer.TotalSpent));
    }
}

public class InvalidRoleTests
{
    private const string Unreachable = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2";

    [Fact]
    public async Task AnUnknownRoleFailsTheStartWithAMessageNamingTheSetting()
    {
        var (exitCode, output) = await AppProcess.RunAsync(Unreachable, TimeSpan.FromMinutes(2),
            "--urls", "http://127.0.0.1:0", "--Crm:Role", "chef");

        Assert.Equal(1, exitCode);
        Assert.Contains("crm-minimal cannot start: Crm:Role 'chef' is not one of: all, api, worker.", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task TheRoleSwitchOnTheCommandLineIsReadAsCrmRole()
    {
        // migrate parses no flags, so only the `--role` mapping can make this fail on Crm:Role.
        var (exitCode, output) = await AppProcess.RunAsync(Unreachable, TimeSpan.FromMinutes(2), "migrate", "--role", "chef");

        Assert.Equal(1, exitCode);
        Assert.Contains("Crm:Role 'chef' is not one of: all, api, worker.", output);
        Assert.DoesNotContain("   at ", output);
    }
}
