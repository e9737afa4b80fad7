using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Jobs.Categories;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Ledger;

// POST /api/categories/preview: the counts other thresholds would give, computed at once,
// equal to what the recalculation with those thresholds then writes; nothing is written.
public class CategoryPreviewTests(PreviewCustomersFactory factory) : IClassFixture<PreviewCustomersFactory>
{
    private static readonly string[] Categories = ["new", "regular", "vip", "inactive"];

    private readonly HttpClient _client = factory.CreateClient();

    private async Task<JsonNode> PreviewAsync(string body)
    {
        var response = await _client.PostRawAsync("/api/categories/preview", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadJsonAsync();
    }

    private static async Task<Dictionary<string, int>> StoredCountsAsync(HttpClient client) =>
        (await (await client.GetAsync("/api/categories")).ReadJsonAsync()).AsArray()
        .ToDictionary(c => (string)c!["category"]!, c => (int)c!["count"]!);

    private static Dictionary<string, int> Counts(JsonNode counts) => Categories.ToDictionary(c => c, c => (int)counts[c]!);

    private async Task<(int Changes, string Categories)> WrittenAsync()
    {
        await using var db = factory.CreateDbContext();
        var categories = await db.Customers.OrderBy(c => c.Id).Select(c => new { c.Category, c.CategoryRule }).ToListAsync();
        return (await db.CustomerChanges.CountAsync(), string.Join(",", categories));
    }

    // The recalculation job itself, run in an app configured with these Crm:Categories values
    // (on this class's database and clock), not on whichever Hangfire server picks it up first.
    private async Task RecalculateWithAsync(Dictionary<string, string> thresholds)
    {
        await using var tuned = factory.WithWebHostBuilder(host =>
        {
            foreach (var (name, value) in thresholds)
                host.UseSetting($"Crm:Categories:{name}", value);
        });
        await using var scope = tuned.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<RecalculateCategoriesJob>().RunAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData("""{"regularMinOrders":2,"vipMinOrders":5,"vipMinSpent":50000,"inactiveAfterDays":60}""")]
    [InlineData("""{"vipMinOrders":8,"inactiveAfterDays":300}""")]
    [InlineData("""{"regularMinOrders":6}""")]
    public async Task ProposedCountsAreWhatTheRecalculationWithThoseThresholdsWrites(string body)
    {
        var before = await WrittenAsync();
        var preview = await PreviewAsync(body);
        Assert.Equal(before, await WrittenAsync());
        var current = Counts(preview["current"]!);
        var proposed = Counts(preview["proposed"]!);
        Assert.Equal(await StoredCountsAsync(_client), current);
        // Who moves where accounts for every difference between the two.
        var transitions = preview["transitions"]!.AsArray()
            .Select(t => ((string)t!["from"]!, (string)t["to"]!, (int)t["count"]!)).ToList();
        Assert.All(transitions, t => Assert.NotEqual(t.Item1, t.Item2));
        Assert.Equal(proposed, Categories.ToDictionary(c => c,
            c => current[c] - transitions.Where(t => t.Item1 == c).Sum(t => t.Item3) + transitions.Where(t => t.Item2 == c).Sum(t => t.Item3)));

        // The fields sent, as the job's configuration; the ones left out keep their configured values.
        var sent = JsonNode.Parse(body)!.AsObject().ToDictionary(p => char.ToUpperInvariant(p.Key[0]) + p.Key[1..], p => p.Value!.ToJsonString());
        await RecalculateWithAsync(sent);
        Assert.Equal(proposed, await StoredCountsAsync(_client));

        // Back to the configured thresholds: previewing them (nothing sent) gives what the next recalculation writes.
        var defaults = await PreviewAsync("{}");
        Assert.Equal(new CategoryOptions().InactiveAfterDays, (int)defaults["thresholds"]!["inactiveAfterDays"]!);
        await RecalculateWithAsync(new());
        Assert.Equal(Counts(defaults["proposed"]!), await StoredCountsAsync(_client));
        Assert.Empty((await PreviewAsync("{}"))["transitions"]!.AsArray());
    }

    [Theory]
    [InlineData("""{"vipMinOrders":0}""", "vipMinOrders")]
    [InlineData("""{"regularMinOrders":-1}""", "regularMinOrders")]
    [InlineData("""{"vipMinSpent":0}""", "vipMinSpent")]
    [InlineData("""{"vipMinSpent":-100.5}""", "vipMinSpent")]
    [InlineData("""{"inactiveAfterDays":-30}""", "inactiveAfterDays")]
    [InlineData("""{"inactiveAfterDays":10000000}""", "inactiveAfterDays")]
    [InlineData("""{"vipMinOrders":5,"minOrders":3}""", "minOrders")]
    [InlineData("""{"vipMinOrders":"ten"}""", "vipMinOrders")]
    [InlineData("""{"regularMinOrders":2.5}""", "regularMinOrders")]
    [InlineData("""{"vipMinSpent":"lots"}""", "vipMinSpent")]
    [InlineData("""[1]""", "body")]
    public async Task BadThresholdsAreAProblemNamingTheFieldAndWriteNothing(string body, string field)
    {
        var before = await WrittenAsync();

        await (await _client.PostRawAsync("/api/categories/preview", body)).AssertValidationErrorAsync(field);

        Assert.Equal(before, await WrittenAsync());
    }

    [Fact]
    public async Task AReaderMayNotPreview() =>
        Assert.Equal(HttpStatusCode.Forbidden,
            (await factory.CreateClient(TestKeys.Reader).PostAsJsonAsync("/api/categories/preview", new { vipMinOrders = 5 })).StatusCode);
}
