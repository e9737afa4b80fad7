using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace Crm.Api.Infrastructure;

// The last word on errors: every exception becomes problem details, never a stack trace.
public sealed partial class ProblemExceptionHandler(
    IProblemDetailsService problemDetails, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var problem = exception switch
        {
            BadHttpRequestException bad => BadRequest(bad),
            _ when IsDatabaseUnavailable(exception) => new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The database is unavailable",
                Detail = "Try again shortly.",
            },
            _ => new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "An unexpected error occurred",
            },
        };
        if (problem.Status >= 500)
            logger.LogError(exception, "Request {Method} {Path} failed", http.Request.Method, http.Request.Path);

        http.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    // Binding failures (malformed JSON, a route id that is not a number, a missing body)
    // become a 400 whose errors name the field, like any validation error.
    private static ProblemDetails BadRequest(BadHttpRequestException bad)
    {
        var status = bad.StatusCode;
        var (field, message) = bad.InnerException switch
        {
            JsonException json => (JsonField(json), JsonMessage(json)),
            _ => (ParameterName(bad.Message), bad.Message),
        };
        if (status != StatusCodes.Status400BadRequest)
            return new ProblemDetails { Status = status, Title = ReasonPhrase(status), Detail = message };

        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = status,
            Title = "One or more validation errors occurred.",
        };
    }

    private static string JsonField(JsonException json)
    {
        var unmapped = UnmappedProperty().Match(json.Message);
        if (unmapped.Success)
            return unmapped.Groups[1].Value;
        var path = json.Path?.TrimStart('$').TrimStart('.');
        return string.IsNullOrEmpty(path) ? "body" : path;
    }

    private static string JsonMessage(JsonException json)
    {
        if (UnmappedProperty().IsMatch(json.Message))
            return "This field is unknown or not writable.";
        // StrictEnumConverter's own message lists the allowed values.
        const string allowed = "expected one of:";
        var at = json.Message.IndexOf(allowed, StringComparison.Ordinal);
        if (at >= 0)
            return "Expected one of:" + json.Message[(at + allowed.Length)..].Split(" Path:")[0];
        // System.Text.Json messages name .NET types; keep the part a client can act on.
        return json.Message.Contains("could not be converted", StringComparison.Ordinal)
            ? "The value has the wrong type or format."
            : "The request body is not valid JSON.";
    }

    private static string ParameterName(string message)
    {
        var match = BoundParameter().Match(message);
        return match.Success ? JsonNamingPolicy.CamelCase.ConvertName(match.Groups[1].Value) : "body";
    }

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);

    private static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or TimeoutException)
                return true;
        }
        return false;
    }

    [GeneratedRegex("JSON property '([^']+)' could not be mapped")]
    private static partial Regex UnmappedProperty();

    // 'Failed to bind parameter "long id" from "abc".' and 'Required parameter "int page" ...'
    [GeneratedRegex("parameter \"[^\" ]+ ([^\" ]+)\"")]
    private static partial Regex BoundParameter();
}
