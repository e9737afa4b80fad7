using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Infrastructure;

// Reads keep the requests' short command timeout; a write's EF Core statements get
// Crm:Database:WriteCommandTimeout, since they may wait for other writes of the same
// customer (see DatabaseOptions).
public static class WriteTimeout
{
    public static TBuilder WithWriteTimeout<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
            {
                var timeout = http.RequestServices.GetRequiredService<DatabaseOptions>().WriteCommandTimeout;
                http.RequestServices.GetRequiredService<CrmDbContext>().Database.SetCommandTimeout(timeout);
            }
            return await next(context);
        });
}
