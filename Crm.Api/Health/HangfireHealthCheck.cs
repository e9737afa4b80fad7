using Crm.Jobs;
using Crm.Jobs.Hosting;
using Hangfire;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Crm.Api.Health;

// Ready means the job storage answers and, in a process that runs jobs, that this
// process's job servers are alive (a recent heartbeat).
public sealed class HangfireHealthCheck(JobStorage storage, IConfiguration configuration) : IHealthCheck
{
    private static readonly TimeSpan HeartbeatTolerance = TimeSpan.FromMinutes(1);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
    {
        // Hangfire's storage API is synchronous: it runs on a pool thread, not the request's.
        var servers = await Task.Run(() => storage.GetMonitoringApi().Servers(), ct);
        if (CrmJobsExtensions.Role(configuration) == AppRole.Api)
            return HealthCheckResult.Healthy($"storage reachable; {servers.Count} job server(s) in the cluster");

        var mine = servers.Where(s => IsServerOf(s.Name, Environment.MachineName, Environment.ProcessId)).ToList();
        var alive = mine.Count(s => s.Heartbeat is { } beat && DateTime.UtcNow - beat < HeartbeatTolerance);
        return alive >= 2
            ? HealthCheckResult.Healthy($"{alive} job servers of this process are alive")
            : HealthCheckResult.Unhealthy($"{alive} of this process's 2 job servers have a recent heartbeat");
    }

    // Hangfire lower-cases the server name in its ids ("myhost-default:1234:…"), so a host
    // named with capitals must be compared without case.
    public static bool IsServerOf(string serverId, string machineName, int processId) =>
        serverId.StartsWith($"{machineName}-", StringComparison.OrdinalIgnoreCase) && serverId.Contains($":{processId}:");
}
