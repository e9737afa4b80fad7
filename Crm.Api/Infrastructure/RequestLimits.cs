using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.RateLimiting;

namespace Crm.Api.Infrastructure;

public sealed class LimitOptions
{
    public const string Section = "Crm:RateLimit";

    public int PermitsPerMinute { get; set; } = 600;

    // Request bodies larger than this are refused with 413, except the streamed import.
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}

public static class RequestLimits
{
    public static IServiceCollection AddCrmLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(LimitOptions.Section).Get<LimitOptions>() ?? new LimitOptions();
        services.AddSingleton(options);
        services.AddRateLimiter(limiter =>
        {
            // One budget per API key, or per client address when no key is sent.
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
