namespace Crm.Api.Infrastructure;

// Headers every answer carries. The dashboard and the API reference must not be framed by
// another site (clickjacking: a hidden frame over a page tricks an operator into clicking a
// dashboard command), and no answer may be sniffed into another content type.
public static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            // When the answer starts: the exception handler clears the headers of a failed request.
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.XFrameOptions = "DENY";
                headers.ContentSecurityPolicy = "frame-ancestors 'none'";
                headers.XContentTypeOptions = "nosniff";
                return Task.CompletedTask;
            });
            return next(context);
        });

    // An answer that carries a secret (a webhook's signing secret): no cache, proxy or
    // browser may keep a copy.
    public static RouteHandlerBuilder WithNoStore(this RouteHandlerBuilder builder) =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            context.HttpContext.Response.Headers.CacheControl = "no-store";
            return await next(context);
        });
}
