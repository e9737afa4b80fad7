using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Api.Customers;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Customers;

// GET /api/customers/duplicates: the pairs an operator would merge — one e-mail (any case), or
// one name in one city — paged; a value shared by a crowd is nobody's and is left out.
public class CustomerDuplicatesTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<long> CreateAsync(string name, string email, string city)
    {
        var response = await _client.PostAsJsonAsync("/api/customers", new { name, phone = TestPhones.New(), email, city });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (long)(await response.ReadJsonAsync())["id"]!;
    }

    private async Task<List<(long, long, string)>> PairsAsync(string query = "pageSize=200")
    {
        var page = await (await _client.GetAsync($"/api/customers/duplicates?{query}")).ReadJsonAsync();
        return page["items"]!.AsArray().Select(p => (
            (long)p!["customers"]![0]!["id"]!, (long)p["customers"]![1]!["id"]!,
            string.Join("+", p["reasons"]!.AsArray().Select(r => (string)r!)))).ToList();
    }

    [Fact]
    public async Task PairsByEMailOrByNameAndCityAreListedAndCrowdsAreNot()
    {
        var anna = await CreateAsync("Анна Петрова", "anna@example.com", "Казань");
        var annaAgain = await CreateAsync("Анна Петрова", "ANNA@example.com", "казань ");
        var annaWork = await CreateAsync("А. Петрова", "anna@example.com", "");
        var boris = await CreateAsync("Борис", "boris@example.com", "Самара");
        var borisNamesake = await CreateAsync("Борис", "other@example.com", "Самара");
        await CreateAsync("Борис", "third@example.com", "Москва");
        // The placeholder name is nobody's, and a shared e-mail of a crowd is no person's.
        await CreateAsync("Без имени", "", "Самара");
        await CreateAsync("Без имени", "", "Самара");
        for (var i = 0; i <= CustomerDuplicates.GroupMax; i++)
            await CreateAsync($"Покупатель {i}", "orders@shop.example", "");

        var pairs = await PairsAsync();

        Assert.Equal(
        [
            (anna, annaAgain, "email+nameAndCity"), (anna, annaWork, "email"), (annaAgain, annaWork, "email"),
            (boris, borisNamesake, "nameAndCity"),
        ], pairs);
        var page = await (await _client.GetAsync("/api/customers/duplicates?pageSize=2&page=2")).ReadJsonAsync();
        Assert.Equal(4, (int)page["totalCount"]!);
        Assert.Equal(pairs.Skip(2), page["items"]!.AsArray().Select(p => ((long)p!["customers"]![0]!["id"]!, (long)p["customers"]![1]!["id"]!,
            string.Join("+", p["reasons"]!.AsArray().Select(r => (string)r!)))));
        var past = await (await _client.GetAsync("/api/customers/duplicates?pageSize=2&page=9")).ReadJsonAsync();
        Assert.Equal((4, 0), ((int)past["totalCount"]!, past["items"]!.AsArray().Count));

        // Merged, a pair is gone.
        var merge = await (await _client.PostAsJsonAsync("/api/customers/merge", new { targetId = anna, sourceIds = new[] { annaAgain, annaWork } })).ReadJsonAsync();
        await _client.JobAsync((string)merge["jobId"]!);
        Assert.Equal([(boris, borisNamesake, "nameAndCity")], await PairsAsync());
        await (await _client.GetAsync("/api/customers/duplicates?pageSize=0")).AssertValidationErrorAsync("pageSize");
    }
}
