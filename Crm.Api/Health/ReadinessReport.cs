using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Crm.Api.Health;

// The readiness checks' last report, run again once it is older than Crm:Health:CacheDuration:
// one run at a time, whoever asks while it runs waits for it. Aged on the real clock (not the
// app's TimeProvider): it throttles real probes.
public sealed class ReadinessReport(HealthCheckService health, IOptions<HealthOptions> options)
{
    private readonly SemaphoreSlim _running = new(1, 1);
    private CheckedReadiness? _last;

    public async Task<CheckedReadiness> GetAsync(CancellationToken ct)
    {
        if (Fresh() is { } cached)
            return cached;
        await _running.WaitAsync(ct);
        try
        {
            if (Fresh() is { } ranMeanwhile)
                return ranMeanwhile;
            // Not the caller's token: the report serves the callers after it too.
            var report = await health.CheckHealthAsync(r => r.Tags.Contains(HealthEndpoints.ReadyTag), CancellationToken.None);
            return _last = new CheckedReadiness(report, DateTime.UtcNow, Stopwatch.GetTimestamp());
        }
        finally
        {
            _running.Release();
        }
    }

    private CheckedReadiness? Fresh() =>
        _last is { } last && Stopwatch.GetElapsedTime(last.Timestamp) < options.Value.CacheDuration ? last : null;
}
