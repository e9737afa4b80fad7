using System.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Crm.Api.Infrastructure;

// ASP.NET Core's problem writer declines a caller whose Accept names neither JSON nor */*
// (a CSV export's `Accept: text/csv`), and IProblemDetailsService.WriteAsync then throws: a
// 401, 403 or 429 became a 500. Registered after the default writer, this one answers the
// rest: an error is application/problem+json whatever the caller hoped to receive.
public sealed class ProblemJsonWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        // The runtime type: a validation problem keeps its errors.
        problem.Extensions.TryAdd("traceId", Activity.Current?.Id ?? http.TraceIdentifier);
        return new ValueTask(http.Response.WriteAsJsonAsync(problem, problem.GetType(), json.Value.SerializerOptions, "application/problem+json"));
    }
}
