using System.Text.Json;
using System.Text.Json.Nodes;
using Crm.Api.Infrastructure;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Reliability;

// The field a binding failure names comes from JsonException.Path and the endpoint's own
// parameters, not from the wording of a framework message: these exceptions carry messages
// that say nothing a parser could use, and the right field must still be named.
public class BindingErrorTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private const string Unhelpful = "Something went wrong while reading the request.";

    [Theory]
    [InlineData("abc")]
    [InlineData("99999999999999999999")]
    [InlineData(" ")]
    public async Task AMalformedRouteIdIsNamedFromTheRouteNotFromTheMessage(string id)
    {
        var errors = await HandleAsync("GetCustomer", new BadHttpRequestException(Unhelpful), http => http.Request.RouteValues["id"] = id);
        Assert.Equal("The value must be a whole number.", (string?)errors["id"]?[0]);
    }

    [Theory]
    [InlineData("?page=abc", "page")]
    [InlineData("?page=2&pageSize=1.5", "pageSize")]
    public async Task AMalformedQueryNumberIsNamedFromTheQueryNotFromTheMessage(string query, string field)
    {
        var errors = await HandleAsync("ListCustomers", new BadHttpRequestException(Unhelpful),
            http => http.Request.QueryString = new QueryString(query));
        Assert.Equal([field], errors.Select(e => e.Key));
    }

    [Fact]
    public async Task AnUnknownJsonFieldIsNamedFromItsPath()
    {
        var json = new JsonException("Nothing about this property.", "$.totalSpent", 0, 14);
        var errors = await HandleAsync("CreateCustomer", new BadHttpRequestException(Unhelpful, 400, json));
        Assert.Equal("This field is unknown or not writable.", (string?)errors["totalSpent"]?[0]);
    }

    [Fact]
    public async Task AJsonValueOfTheWrongTypeIsNamedFromItsPath()
    {
        var json = new JsonException("Nothing about this value.", "$.name", 0, 11, new InvalidOperationException());
        var errors = await HandleAsync("CreateCustomer", new BadHttpRequestException(Unhelpful, 400, json));
        Assert.Equal("The value has the wrong type or format.", (string?)errors["name"]?[0]);
    }

    [Fact]
    public async Task BrokenJsonIsAboutTheBody()
    {
        var json = new JsonException("Nothing about syntax.", "$.name", 0, 11, new JsonException("inner"));
        var errors = await HandleAsync("CreateCustomer", new BadHttpRequestException(Unhelpful, 400, json));
        Assert.Equal("The request body is not valid JSON.", (string?)errors["body"]?[0]);
    }

    // The app's exception handler on a request to the named endpoint, as the framework hands it a binding failure.
    private async Task<JsonObject> HandleAsync(string endpointName, BadHttpRequestException exception, Action<HttpContext>? arrange = null)
    {
        var endpoint = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Single(e => e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == endpointName);
        await using var scope = factory.Services.CreateAsyncScope();
        var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        http.SetEndpoint(endpoint);
        http.Response.Body = new MemoryStream();
        arrange?.Invoke(http);

        var handler = ActivatorUtilities.CreateInstance<ProblemExceptionHandler>(scope.ServiceProvider);
        Assert.True(await handler.TryHandleAsync(http, exception, CancellationToken.None));

        Assert.Equal(StatusCodes.Status400BadRequest, http.Response.StatusCode);
        http.Response.Body.Position = 0;
        var problem = JsonNode.Parse(http.Response.Body)!;
        return problem["errors"]!.AsObject();
    }
}
