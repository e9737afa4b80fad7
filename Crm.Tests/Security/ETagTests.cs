using System.Net;
using System.Net.Http.Json;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Security;

public class ETagTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<(long Id, string ETag)> CreateAsync()
    {
        var response = await _client.PostAsJsonAsync("/api/customers",
            new { name = "Версия", phone = TestPhones.New() });
        return ((long)(await response.ReadJsonAsync())["id"]!, response.Headers.ETag!.Tag);
    }

    private Task<HttpResponseMessage> PatchAsync(long id, object body, string? ifMatch)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/customers/{id}") { Content = JsonContent.Create(body) };
        if (ifMatch is not null)
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return _client.SendAsync(request);
    }

    [Fact]
    public async Task GetReturnsTheETagThatWritesChange()
    {
        var (id, created) = await CreateAsync();
        var get = await _client.GetAsync($"/api/customers/{id}");
        Assert.Equal(created, get.Headers.ETag!.Tag);

        var patch = await PatchAsync(id, new { city = "Уфа" }, created);

        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.NotEqual(created, patch.Headers.ETag!.Tag);
        Assert.Equal(patch.Headers.ETag.Tag, (await _client.GetAsync($"/api/customers/{id}")).Headers.ETag!.Tag);
    }

    [Fact]
    public async Task AStaleIfMatchIs412AndChangesNothing()
    {
        var (id, stale) = await CreateAsync();
        await PatchAsync(id, new { city = "Первый" }, null);

        var patch = await PatchAsync(id, new { city = "Второй" }, stale);
        var put = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Put, $"/api/customers/{id}")
        {
            Content = JsonContent.Create(new { name = "Другой", phone = "+79990000000" }),
            Headers = { { "If-Match", stale } },
        });

        await patch.AssertProblemAsync(HttpStatusCode.PreconditionFailed);
        await put.AssertProblemAsync(HttpStatusCode.PreconditionFailed);
        await using var db = factory.CreateDbContext();
        var customer = await db.Customers.SingleAsync(c => c.Id == id);
        Assert.Equal(("Первый", "Версия"), (customer.City, customer.Name));
    }

    [Fact]
    public async Task WithoutIfMatchTheLastWriteWinsAndStarMatchesAnyVersion()
    {
        var (id, _) = await CreateAsync();
        await PatchAsync(id, new { city = "Раз" }, null);
        Assert.Equal(HttpStatusCode.OK, (await PatchAsync(id, new { city = "Два" }, null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PatchAsync(id, new { city = "Три" }, "*")).StatusCode);
        await (await PatchAsync(id, new { city = "Четыре" }, "\"garbage\"")).AssertProblemAsync(HttpStatusCode.PreconditionFailed);
        Assert.Equal("Три", (string)(await (await _client.GetAsync($"/api/customers/{id}")).ReadJsonAsync())["city"]!);
    }

    [Fact]
    public async Task ConcurrentUnconditionalPatchesAllSucceed()
    {
        var (id, _) = await CreateAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            factory.CreateClient().PatchAsync($"/api/customers/{id}", JsonContent.Create(new { notes = $"note {i}" }))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }
}
