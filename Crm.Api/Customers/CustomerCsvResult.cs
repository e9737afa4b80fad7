using Crm.Jobs.Customers;
using Microsoft.AspNetCore.Http.Metadata;

namespace Crm.Api.Customers;

// The answer of a customers list asked for as text/csv: the whole segment, streamed.
public sealed class CustomerCsvResult(IQueryable<Customer> customers, string fileName) : IResult, IEndpointMetadataProvider
{
    public Task ExecuteAsync(HttpContext httpContext) =>
        CustomerCsv.WriteAsync(httpContext.Response, customers, fileName, httpContext.RequestAborted);

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), [CustomerCsv.MediaType]));
}
