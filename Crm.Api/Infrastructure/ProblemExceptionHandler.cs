using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Crm.Jobs.Data;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Crm.Api.Infrastructure;

// The last word on errors: every exception becomes problem details, never a stack trace.
public sealed class ProblemExceptionHandler(
    IProblemDetailsService problemDetails, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var problem = exception switch
        {
            BadHttpRequestException bad => BadRequest(bad, http),
            _ when DatabaseUnavailable.IsAnywhereIn(exception) => new ProblemDetails
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
        // An unavailable database is a state, not a bug: one line each (a failover answers
        // hundreds of 503s in seconds), naming what Npgsql saw, without a stack trace.
        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
            logger.LogWarning("Request {Method} {Path} answered 503: the database is unavailable ({Reason})",
                http.Request.Method, http.Request.Path, PostgresErrorText.CodeOf(exception));
        else if (problem.Status >= 500)
            logger.LogError(exception, "Request {Method} {Path} failed", http.Request.Method, http.Request.Path);

        http.Response.StatusCode = problem.Status!.Value;
        // "Retry in a moment", as a client can tell from "bug": the database is away or being replaced.
        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
            http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    // Binding failures (malformed JSON, a route id that is not a number, a missing body)
    // become a 400 whose errors name the field, like any validation error. The field comes
    // from JsonException.Path or the endpoint's own parameters, never from message text.
    private static ProblemDetails BadRequest(BadHttpRequestException bad, HttpContext http)
    {
        var status = bad.StatusCode;
        var (field, message) = bad.InnerException is JsonException json ? DescribeJson(json, BodyType(http))
            : UnparsableParameter(http) is { } parameter ? parameter
            : ("body", "The request body is missing or cannot be read.");
        if (status != StatusCodes.Status400BadRequest)
            return new ProblemDetails { Status = status, Title = ReasonPhrase(status), Detail = bad.Message };

        return new HttpValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = status,
            Title = "One or more validation errors occurred.",
        };
    }

    // System.Text.Json messages name .NET types; say what the client can fix, on the field the path names.
    private static (string Field, string Message) DescribeJson(JsonException json, JsonTypeInfo? body)
    {
        // A reader error (broken syntax) is about the body, whatever property the path reached.
        if (json.InnerException is JsonException)
            return ("body", "The request body is not valid JSON.");
        var names = PropertiesOf(json.Path);
        if (names.Count == 0)
            return ("body", "The request body must be a JSON object.");
        // Into the body's nested objects as far as the path goes: a saved segment's
        // {"filter":{"minSpend":1}} names filter.minSpend, not filter.
        var field = names[0];
        for (var (type, i) = (body, 0); type is not null; i++)
        {
            var property = type.Properties.FirstOrDefault(p => string.Equals(p.Name, names[i], StringComparison.OrdinalIgnoreCase));
            if (property is null)
                return (field, "This field is unknown or not writable.");
            if (i + 1 == names.Count)
                break;
            type = type.Options.GetTypeInfo(property.PropertyType);
            if (type.Kind != JsonTypeInfoKind.Object)
                break;
            field += "." + names[i + 1];
        }
        if (json is InvalidEnumValueException invalid)
            return (field, $"Expected one of: {invalid.Expected}.");
        return (field, "The value has the wrong type or format.");
    }

    // The property names of a path up to its first array index:
    // "$.name" → [name], "$.filter.minSpend" → [filter, minSpend], "$.tags[1]" → [tags],
    // "$['odd.name']" → [odd.name], "$" → [].
    private static List<string> PropertiesOf(string? path)
    {
        var names = new List<string>();
        if (path is null || !path.StartsWith('$'))
            return names;
        var i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                names.Add(path[(i + 1)..end]);
                i = end;
            }
            else if (string.CompareOrdinal(path, i, "['", 0, 2) == 0)
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0)
                    break;
                names.Add(path[(i + 2)..end]);
                i = end + 2;
            }
            else
            {
                break;
            }
        }
        return names;
    }

    // The JSON body the endpoint reads, whose property names tell an unknown field from a bad value.
    private static JsonTypeInfo? BodyType(HttpContext http)
    {
        var type = FailedEndpoint(http)?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
        return type is null
            ? null
            : http.RequestServices.GetRequiredService<IOptions<HttpJsonOptions>>().Value.SerializerOptions.GetTypeInfo(type);
    }

    // The framework failed to bind a route or query value: the endpoint's numeric parameter
    // whose text does not parse (route ids, page, pageSize, a segment's bounds) is the one it
    // could not read; with what it must be.
    private static (string Field, string Message)? UnparsableParameter(HttpContext http)
    {
        var handler = FailedEndpoint(http)?.Metadata.GetMetadata<MethodInfo>();
        var routeValues = http.Features.Get<IExceptionHandlerFeature>()?.RouteValues ?? http.Request.RouteValues;
        foreach (var (name, type) in BoundValues(handler))
        {
            var text = routeValues.TryGetValue(name, out var route)
                ? route as string
                : http.Request.Query[name].ToString();
            if (!string.IsNullOrEmpty(text) && Unparsable(type, text) is { } message)
                return (JsonNamingPolicy.CamelCase.ConvertName(name), message);
        }
        return null;
    }

    // The exception handler middleware clears the endpoint and route values before it calls us; its feature keeps them.
    private static Endpoint? FailedEndpoint(HttpContext http) =>
        http.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? http.GetEndpoint();

    // The handler's parameters, an [AsParameters] record standing for its constructor's.
    private static IEnumerable<(string Name, Type Type)> BoundValues(MethodInfo? handler) =>
        (handler?.GetParameters() ?? []).SelectMany(p => p.IsDefined(typeof(AsParametersAttribute), inherit: false)
            ? p.ParameterType.GetConstructors().SelectMany(c => c.GetParameters()).Select(c => (c.Name!, c.ParameterType))
            : [(p.Name!, p.ParameterType)]);

    // The numeric types of our routes and queries, parsed as the framework binds them;
    // what the value must be when it does not parse, null when it does.
    private static string? Unparsable(Type type, string text) =>
        (Nullable.GetUnderlyingType(type) ?? type) switch
        {
            var t when t == typeof(long) => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? null : WholeNumber,
            var t when t == typeof(int) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? null : WholeNumber,
            var t when t == typeof(decimal) =>
                decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out _) ? null : "The value must be a number.",
            _ => null,
        };

    private const string WholeNumber = "The value must be a whole number.";

    private static string ReasonPhrase(int status) =>
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
