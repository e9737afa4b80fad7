using Crm.Jobs.Hosting;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Crm.Api.Infrastructure;

public static class Telemetry
{
    // Metrics for Prometheus at /metrics (the service's crm_* series plus ASP.NET Core,
    // runtime and Npgsql's, re-published by NpgsqlMetricsBridge), traces over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and
    // JSON logs outside Development (with the job id and sync-run id from log scopes).
    public static WebApplicationBuilder AddCrmTelemetry(this WebApplicationBuilder builder)
    {
        NpgsqlMetricsBridge.EnsureStarted();
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("crm-minimal"))
            .WithMetrics(metrics => metrics
                .AddMeter(CrmMetrics.MeterName, NpgsqlMetricsBridge.MeterName)
                .AddAspNetCoreInstrumentation()
                // Kestrel tags its connections with the address and port it listens on (and
                // meters are process-wide: any Kestrel of the process). /metrics answers anyone
                // and names no address (docs/SECURITY.md): only these tags are kept.
                .AddView("kestrel.*", new MetricStreamConfiguration { TagKeys = KestrelTags })
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        // Only with somewhere to send them: recording spans that no exporter reads costs
        // every request and every command CPU for nothing.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            telemetry.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddNpgsql().AddOtlpExporter());

        if (!builder.Environment.IsDevelopment())
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(json =>
            {
                json.IncludeScopes = true;
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        return builder;
    }

    private static readonly string[] KestrelTags =
        ["network.transport", "network.type", "network.protocol.name", "network.protocol.version", "tls.protocol.version", "error.type"];

    // Scrapers send no key and scrape often: open, like health, and never rate-limited.
    public static void MapCrmMetrics(this WebApplication app) =>
        app.MapPrometheusScrapingEndpoint("/metrics").DisableRateLimiting();
}
