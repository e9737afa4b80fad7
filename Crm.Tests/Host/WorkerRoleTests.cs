using System.Net;
using Crm.Tests.Infrastructure;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Host;

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
