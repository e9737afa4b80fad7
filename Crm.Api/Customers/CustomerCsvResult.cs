using Crm.Jobs.Customers;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;

namespace Crm.Api.Customers;

// The answer of a customers list asked for as text/csv: the whole segment, streamed.
public sealed class CustomerCsvResult(IQueryable<Customer> customers, string fileName) : IResult, IEndpointMetadataProvider
{
    // The answer of a customers list asked for as text/csv (CustomerCsv.IsAccepted): the whole
    // segment in the list's ordering; null when the caller wants the JSON page. Either way the
    // answer varies by Accept.
    public static CustomerCsvResult? IfAccepted(HttpContext http, IQueryable<Customer> customers, string? ordering, string fileName)
    {
        http.Response.Headers.Append(HeaderNames.Vary, HeaderNames.Accept);
        return CustomerCsv.IsAccepted(http.Request) ? new CustomerCsvResult(CustomerOrdering.Apply(customers, ordering), fileName) : null;
    }

    public Task ExecuteAsync(HttpContext httpContext) =>
        CustomerCsv.WriteAsync(httpContext.Response, customers, fileName, httpContext.RequestAborted);

    // Not a second "200" response type: the API explorer keeps one type per status, and the
    // JSON page's schema would be lost. DescribeAsync adds text/csv to that 200 instead.
    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new CsvAnswer());

    // An OpenAPI operation transformer: the 200 of a route that can answer CSV lists text/csv too.
    public static Task DescribeAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<CsvAnswer>().Any()
            && operation.Responses?.GetValueOrDefault("200") is OpenApiResponse ok)
        {
            ok.Content ??= new Dictionary<string, OpenApiMediaType>();
            ok.Content[CustomerCsv.MediaType] = new OpenApiMediaType
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "With Accept: text/csv, the whole segment as RFC 4180 CSV in UTF-8 with a byte order mark (docs/API.md, \"Customers as CSV\").",
                },
            };
        }
        return Task.CompletedTask;
    }

    private sealed class CsvAnswer;
}
