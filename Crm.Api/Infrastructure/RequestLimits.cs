using System.Net;
using System.Threading.RateLimiting;
using Crm.Api.Customers;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.HttpOverrides;

namespace Crm.Api.Infrastructure;

public static class RequestLimits
{
    public static IServiceCollection AddCrmLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(LimitOptions.Section).Get<LimitOptions>() ?? new LimitOptions();
        if (options.MaxWaitsPerKey < 1 || options.MaxWaits < 1)
            throw new InvalidOperationException($"{LimitOptions.Section}:MaxWaitsPerKey and MaxWaits must be at least 1.");
        services.AddSingleton(options);
        services.AddSingleton<WaitSlots>();
        AddForwardedHeaders(services, configuration);
        services.AddRateLimiter(limiter =>
        {
            // One budget per key (API or dashboard), or per client address for callers without valid credentials.
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                RateLimitPartition.GetFixedWindowLimiter(
                    http.User.Identity?.IsAuthenticated == true
                        ? "key:" + http.User.Identity.Name
                        : "ip:" + http.Connection.RemoteIpAddress,
                    _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = options.PermitsPerMinute,
                        Window = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                    }));
            limiter.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                var http = context.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString();
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = { Status = 429, Title = "Too many requests", Detail = $"At most {options.PermitsPerMinute} requests a minute per key." },
                });
            };
        });
        return services;
    }

    // The client address is the peer's, unless the peer is one of Crm:ForwardedHeaders:KnownProxies
    // or KnownNetworks: only then are its X-Forwarded-For and X-Forwarded-Proto believed.
    private static void AddForwardedHeaders(IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection("Crm:ForwardedHeaders");
        var proxies = Values(section.GetSection("KnownProxies")).Select(text => IPAddress.TryParse(text, out var address)
            ? address : throw Invalid("KnownProxies", text, "an IP address such as 10.0.0.5")).ToList();
        var networks = Values(section.GetSection("KnownNetworks")).Select(text => System.Net.IPNetwork.TryParse(text, out var network)
            ? network : throw Invalid("KnownNetworks", text, "a network such as 10.0.0.0/8")).ToList();

        // After ASP.NET Core's own setup, which ASPNETCORE_FORWARDEDHEADERS_ENABLED makes trust every peer.
        services.PostConfigure<ForwardedHeadersOptions>(forwarded =>
        {
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            proxies.ForEach(forwarded.KnownProxies.Add);
            networks.ForEach(forwarded.KnownIPNetworks.Add);
            // Empty lists would mean "trust every peer" to the middleware: with none configured, read no header at all.
            forwarded.ForwardedHeaders = proxies.Count + networks.Count == 0
                ? ForwardedHeaders.None
                : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Through a chain of trusted proxies; the first address that is not one is the client.
            forwarded.ForwardLimit = null;
        });
    }

    // A list (KnownProxies:0, KnownProxies:1, …) or comma-separated text in one environment variable.
    private static IEnumerable<string> Values(IConfigurationSection section)
    {
        string[] values = [section.Value ?? "", .. section.GetChildren().Select(child => child.Value ?? "")];
        return values.SelectMany(value => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static InvalidOperationException Invalid(string setting, string value, string expected) =>
        new($"Crm:ForwardedHeaders:{setting}: '{value}' is not {expected}.");

    // Refuses oversized bodies up front (Content-Length) and caps streamed ones where the
    // server supports it; an endpoint marked with DisableRequestSizeLimit is exempt.
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var options = http.RequestServices.GetRequiredService<LimitOptions>();
        var metadata = http.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>();
        var limit = metadata is null ? options.MaxRequestBodyBytes : metadata.MaxRequestBodySize;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
            feature.MaxRequestBodySize = limit;
        if (limit is not null && http.Request.ContentLength > limit)
            throw new BadHttpRequestException($"The request body is larger than {limit} bytes.", StatusCodes.Status413PayloadTooLarge);
        await next(http);
    });
}
