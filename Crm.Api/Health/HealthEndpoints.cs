using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Crm.Api.Health;

public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    // /health/live: the process answers. /health/ready: it can do its work (database reachable).
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        // Orchestrators probe these often and without keys.
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteLive })
            .DisableRateLimiting();
        app.MapGet("/health/ready", Ready).DisableRateLimiting().ExcludeFromDescription();
        return app;
    }

    // 200 while Healthy or Degraded, 503 when Unhealthy. Anyone learns the status; what each
    // check found (host names, user names, a failed password's message) only a caller with a
    // key (any role; everyone where no keys are configured).
    private static async Task Ready(HttpContext http, ReadinessReport readiness)
    {
        var (report, at, _) = await readiness.GetAsync(http.RequestAborted);
        http.Response.StatusCode = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        http.Response.Headers.CacheControl = "no-store";
        http.Response.ContentType = "application/json";
        object body = http.User.Identity?.IsAuthenticated == true
            ? new
            {
                status = report.Status.ToString(),
                checkedAt = at,
                durationMs = (long)report.TotalDuration.TotalMilliseconds,
                checks = report.Entries.ToDictionary(e => e.Key, e => new
                {
                    status = e.Value.Status.ToString(),
                    description = e.Value.Description ?? e.Value.Exception?.Message,
                    durationMs = (long)e.Value.Duration.TotalMilliseconds,
                }),
            }
            : new { status = report.Status.ToString() };
        await JsonSerializer.SerializeAsync(http.Response.Body, body, cancellationToken: http.RequestAborted);
    }

    private static Task WriteLive(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(http.Response.Body, new { status = report.Status.ToString() }, cancellationToken: http.RequestAborted);
    }
}
