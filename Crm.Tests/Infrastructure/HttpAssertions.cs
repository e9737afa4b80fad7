using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Crm.Jobs.Data;

namespace Crm.Tests.Infrastructure;

public static class HttpAssertions
{
    public static async Task<JsonNode> ReadJsonAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())
        ?? throw new InvalidOperationException("The response body is empty.");

    // The API's own JSON options, read as strictly as a raw read checks: a member name not
    // spelled as the contract's camelCase, a member the contract lacks, a constructor
    // parameter missing from the body or a null where the contract has none fails the read.
    private static readonly JsonSerializerOptions Contract = new(CrmJson.Options)
    {
        PropertyNameCaseInsensitive = false,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    // The body as a contract type of the API (CustomerResponse, OrderResponse...).
    public static async Task<T> ReadJsonAsync<T>(this HttpResponseMessage response) =>
        await response.Content.ReadFromJsonAsync<T>(Contract)
        ?? throw new InvalidOperationException("The response body is null.");

    // The customer of this E.164 phone as the list's search finds it, or null.
    public static async Task<JsonNode?> CustomerByPhoneAsync(this HttpClient client, string e164)
    {
        var page = await (await client.GetAsync($"/api/customers?search={Uri.EscapeDataString(e164)}")).ReadJsonAsync();
        return page["items"]!.AsArray().SingleOrDefault(c => (string?)c!["phone"] == e164);
    }

    // A completed order of this phone written through the API (201 asserted), as answered.
    public static async Task<Crm.Api.Orders.OrderResponse> PostCompletedOrderAsync(this HttpClient client, string phone, decimal amount)
    {
        var response = await client.PostAsJsonAsync("/api/orders",
            new { customerName = "Покупатель", customerPhone = phone, totalAmount = amount, status = "completed" });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.ReadJsonAsync<Crm.Api.Orders.OrderResponse>();
    }

    // A customer made by completed orders of its phone written through the API, once synced,
    // then the fields given patched on it; returns its id.
    public static async Task<long> CustomerWithOrdersAsync(this HttpClient client, string phone, int orders, decimal amount, object? fields = null)
    {
        for (var i = 0; i < orders; i++)
            await client.PostCompletedOrderAsync(phone, amount);
        var customer = await Waiting.UntilAsync(() => client.CustomerByPhoneAsync(phone),
            c => c is not null && (int)c["totalOrders"]! == orders, "the customer with its orders");
        var id = (long)customer!["id"]!;
        if (fields is not null)
            Assert.Equal(HttpStatusCode.OK, (await client.PatchJsonAsync($"/api/customers/{id}", fields)).StatusCode);
        return id;
    }

    // A problem details response with this status; returns the body for further checks.
    public static async Task<JsonNode> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("   at ", body); // never a stack trace
        var problem = JsonNode.Parse(body)!;
        Assert.Equal((int)status, (int)problem["status"]!);
        return problem;
    }

    // A 400 whose errors object names the field.
    public static async Task<JsonNode> AssertValidationErrorAsync(this HttpResponseMessage response, string field)
    {
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        var errors = problem["errors"]?.AsObject();
        Assert.True(errors is not null && errors.ContainsKey(field),
            $"Expected an error for '{field}', got: {problem.ToJsonString()}");
        return problem;
    }

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string url, string body,
        string contentType = "application/json") =>
        client.PostAsync(url, new StringContent(body, Encoding.UTF8, contentType));

    public static Task<HttpResponseMessage> SendRawAsync(this HttpClient client, HttpMethod method, string url, string body,
        string contentType = "application/json") =>
        client.SendAsync(new HttpRequestMessage(method, url) { Content = new StringContent(body, Encoding.UTF8, contentType) });

    public static Task<HttpResponseMessage> PatchJsonAsync(this HttpClient client, string url, object body) =>
        client.PatchAsync(url, JsonContent.Create(body));
}
