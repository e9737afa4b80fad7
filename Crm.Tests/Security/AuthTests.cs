using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Security;

public class AuthTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    // Every API endpoint the app maps, read from its own endpoint table, so a new route
    // cannot be forgotten: (method, route pattern, path with route values filled in, the body type it takes).
    private List<(string Method, string Pattern, string Path, string ContentType)> ApiEndpoints()
    {
        factory.CreateClient();
        return factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api") == true)
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => (
                m,
                e.RoutePattern.RawText!,
                e.RoutePattern.RawText!.Replace("{id}", "1").Replace("{jobId}", "1"),
                e.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes.FirstOrDefault() ?? "application/json")))
            .ToList();
    }

    private static HttpRequestMessage Request(string method, string path, string contentType) => new(new HttpMethod(method), path)
    {
        Content = method is "GET" or "DELETE" ? null : new StringContent("{}", Encoding.UTF8, contentType),
    };

    // What a caller without a valid key may send to each endpoint: a proper request, a body
    // of a foreign type, a body over the size limit, and a method the route does not map. The
    // caller is unknown, so each of them is a 401, never a 415, 413 or 405.
    private IEnumerable<(string Label, HttpRequestMessage Request)> UnauthenticatedRequests()
    {
        var endpoints = ApiEndpoints();
        Assert.True(endpoints.Count >= 20, $"only {endpoints.Count} endpoints found");
        var oversized = new string('x', 1_200_000);
        foreach (var (method, _, path, contentType) in endpoints)
        {
            yield return ($"{method} {path}", Request(method, path, contentType));
            yield return ($"{method} {path} as XML", new HttpRequestMessage(new HttpMethod(method), path)
            {
                Content = new StringContent("<order/>", Encoding.UTF8, "application/xml"),
            });
            yield return ($"{method} {path} over 1 MB", new HttpRequestMessage(new HttpMethod(method), path)
            {
                Content = new StringContent($$"""{"notes":"{{oversized}}"}""", Encoding.UTF8, contentType),
            });
        }
        foreach (var route in endpoints.GroupBy(e => e.Path))
        {
            var unmapped = new[] { "PUT", "PATCH", "DELETE", "POST", "GET" }.First(m => route.All(e => e.Method != m));
            yield return ($"{unmapped} {route.Key} (not mapped)", Request(unmapped, route.Key, "application/json"));
        }
    }

    [Fact]
    public async Task EveryApiEndpointAnswers401WithoutAKey()
    {
        var anonymous = factory.CreateClient(key: null);
        foreach (var (label, request) in UnauthenticatedRequests())
        {
            var response = await anonymous.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{label} → {(int)response.StatusCode}");
            var problem = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
            Assert.Contains("X-Api-Key", response.Headers.WwwAuthenticate.ToString());
            Assert.NotNull(problem["title"]);
        }
    }

    [Fact]
    public async Task AWrongKeyIsUnauthorizedEverywhere()
    {
        var stranger = factory.CreateClient(new TestKey("stranger", "not-a-configured-key-000000", "admin"));
        foreach (var (label, request) in UnauthenticatedRequests())
        {
            var response = await stranger.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{label} → {(int)response.StatusCode}");
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        }
    }

    // Routes that need more than their method's role: the revert of a run, an unmerge, every route of the
    // webhook subscriptions (GETs too: a subscription decides where customer data goes), and
    // every privacy route (an export hands out everything about a person, an erase destroys it).
    private static readonly (string Method, string Pattern)[] AdminOnly =
    [
        ("POST", "/api/sync/runs/{id}/revert"), ("POST", "/api/customers/merges/{mergeId}/unmerge"),
        ("POST", "/api/webhooks/"), ("GET", "/api/webhooks/"), ("GET", "/api/webhooks/{id}"), ("PATCH", "/api/webhooks/{id}"),
        ("DELETE", "/api/webhooks/{id}"), ("POST", "/api/webhooks/{id}/rotate-secret"), ("POST", "/api/webhooks/{id}/test"),
        ("GET", "/api/webhooks/{id}/deliveries"), ("POST", "/api/webhooks/{id}/replay"),
        ("POST", "/api/customers/{id}/erase"), ("GET", "/api/customers/{id}/export"),
        ("POST", "/api/privacy/erasures"), ("GET", "/api/privacy/erasures"), ("GET", "/api/privacy/erasures/{id}"),
        ("GET", "/api/privacy/export"),
    ];

    // Deletes that need less than admin: a saved segment holds no customer data.
    private static readonly (string Method, string Pattern)[] OperatorDeletes = [("DELETE", "/api/segments/{id}")];

    // reader: every GET; operator: every write but DELETE and the admin-only ones; admin: everything.
    [Fact]
    public async Task RolesDecideWhatAKeyMayDo()
    {
        var endpoints = ApiEndpoints();
        foreach (var route in AdminOnly.Concat(OperatorDeletes))
            Assert.Contains(route, endpoints.Select(e => (e.Method, e.Pattern)));
        foreach (var (method, pattern, path, contentType) in endpoints)
        {
            foreach (var key in TestKeys.All)
            {
                var allowed = AdminOnly.Contains((method, pattern)) ? key == TestKeys.Admin
                    : OperatorDeletes.Contains((method, pattern)) ? key != TestKeys.Reader
                    : method == "GET" || (method != "DELETE" && key != TestKeys.Reader) || key == TestKeys.Admin;
                var response = await factory.CreateClient(key).SendAsync(Request(method, path, contentType));
                if (allowed)
                    Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                        $"{key.Name} {method} {path} → {(int)response.StatusCode}");
                else
                    await response.AssertProblemAsync(HttpStatusCode.Forbidden);
            }
        }
    }

    [Fact]
    public async Task ANoteIsSignedWithTheKeysName()
    {
        var customer = await (await factory.CreateClient().PostAsJsonAsync("/api/customers",
            new { name = "Подпись", phone = TestPhones.New() })).ReadJsonAsync();
        var note = await (await factory.CreateClient(TestKeys.Operator)
            .PostAsJsonAsync($"/api/customers/{customer["id"]}/notes", new { note = "Перезвонить" })).ReadJsonAsync();
        Assert.Equal(TestKeys.Operator.Name, (string)note["createdBy"]!);
    }

    [Fact]
    public async Task HealthOpenApiAndScalarNeedNoKey()
    {
        var anonymous = factory.CreateClient(key: null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
        await Waiting.UntilAsync(() => anonymous.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK, "readiness");
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/scalar")).StatusCode);
        var document = await (await anonymous.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var scheme = document["components"]!["securitySchemes"]!["ApiKey"]!;
        Assert.Equal("apiKey", (string)scheme["type"]!);
        Assert.Equal("header", (string)scheme["in"]!);
        Assert.Equal("X-Api-Key", (string)scheme["name"]!);
        Assert.NotNull(document["security"]![0]!["ApiKey"]);
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private async Task<HttpResponseMessage> DashboardAsync(string path, AuthenticationHeaderValue? credentials, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        request.Headers.Authorization = credentials;
        return await factory.CreateClient(key: null).SendAsync(request);
    }

    [Fact]
    public async Task TheDashboardAsksForBasicCredentials()
    {
        foreach (var credentials in new AuthenticationHeaderValue?[]
        {
            null,
            Basic(TestKeys.Admin.Name, "wrong-password-0000000000"),
            Basic("someone-else", TestKeys.Admin.Key),
            new("Basic", "%%%not-base64"),
            new("Bearer", TestKeys.Admin.Key),
        })
        {
            var response = await DashboardAsync("/hangfire", credentials);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.StartsWith("Basic realm=", response.Headers.WwwAuthenticate.ToString());
        }
    }

    [Fact]
    public async Task AReaderSeesAReadOnlyDashboardAndAnAdminTheFullOne()
    {
        var admin = await DashboardAsync("/hangfire/recurring", Basic(TestKeys.Admin.Name, TestKeys.Admin.Key));
        var reader = await DashboardAsync("/hangfire/recurring", Basic(TestKeys.Reader.Name, TestKeys.Reader.Key));
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reader.StatusCode);
        // The "Trigger now" button is only rendered on a writable dashboard.
        Assert.Contains("js-jobs-list-command", await admin.Content.ReadAsStringAsync());
        Assert.DoesNotContain("js-jobs-list-command", await reader.Content.ReadAsStringAsync());

        // And a reader's attempt to trigger a recurring job is refused by Hangfire itself.
        var trigger = new HttpRequestMessage(HttpMethod.Post, "/hangfire/recurring/trigger")
        {
            Content = new FormUrlEncodedContent([new("jobs[]", "recalculate-categories")]),
        };
        trigger.Headers.Authorization = Basic(TestKeys.Reader.Name, TestKeys.Reader.Key);
        var refused = await factory.CreateClient(key: null).SendAsync(trigger);
        Assert.True(refused.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized or HttpStatusCode.NotFound,
            $"reader trigger → {(int)refused.StatusCode}");
    }

    // Browsers resend Basic credentials on a cross-site form post: a trigger without the
    // dashboard's antiforgery token is refused, the same trigger with it goes through.
    [Fact]
    public async Task ADashboardCommandNeedsTheTokenOfTheDashboardPage()
    {
        var admin = Basic(TestKeys.Admin.Name, TestKeys.Admin.Key);
        var browser = factory.CreateClient(key: null); // keeps cookies, as a browser does
        HttpRequestMessage Trigger(string? header = null, string? token = null)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/hangfire/recurring/trigger")
            {
                Content = new FormUrlEncodedContent([new("jobs[]", "recalculate-categories")]),
            };
            request.Headers.Authorization = admin;
            if (header is not null)
                request.Headers.Add(header, token);
            return request;
        }

        var page = new HttpRequestMessage(HttpMethod.Get, "/hangfire/recurring");
        page.Headers.Authorization = admin;
        var html = await (await browser.SendAsync(page)).Content.ReadAsStringAsync();
        var header = Meta(html, "csrf-header");
        var token = Meta(html, "csrf-token");
        Assert.False(string.IsNullOrEmpty(header) || string.IsNullOrEmpty(token), "the dashboard page carries no antiforgery token");

        Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(Trigger())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.SendAsync(Trigger(header, "forged-" + token))).StatusCode);
        var accepted = await browser.SendAsync(Trigger(header, token));
        Assert.True(accepted.IsSuccessStatusCode, $"trigger with the page's token → {(int)accepted.StatusCode}");
    }

    private static string? Meta(string html, string name)
    {
        var match = Regex.Match(html, $"<meta name=\"{name}\" content=\"([^\"]*)\"");
        return match.Success ? WebUtility.HtmlDecode(match.Groups[1].Value) : null;
    }
}
