using System.Net;
using System.Net.Http.Json;
using Crm.Api.Privacy;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Privacy;

// A person with two phones is one person to export and erase: asked by either phone or by
// the customer, every phone's orders, requests and the phones themselves are listed and
// erased, and both phones stay erased.
public class SeveralPhonesErasureTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task AnErasureByTheOtherPhoneErasesEveryPhoneOfThePerson()
    {
        var (primary, other) = (TestPhones.New(), TestPhones.New());
        await _client.PostCompletedOrderAsync(primary, 100m);
        var id = (long)(await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(primary), c => c is not null, "the customer"))!["id"]!;
        Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync($"/api/customers/{id}/phones", new { phone = other })).StatusCode);
        await _client.PostCompletedOrderAsync(other, 50m);
        await Waiting.UntilAsync(async () => await (await _client.GetAsync($"/api/customers/{id}")).ReadJsonAsync(),
            c => (decimal)c["totalSpent"]! == 150m, "both phones counted");

        var export = await (await _client.GetAsync($"/api/privacy/export?phone={Uri.EscapeDataString(other)}")).ReadJsonAsync();
        Assert.Equal(new[] { other, primary }.Order(StringComparer.Ordinal), export["phones"]!.AsArray().Select(p => (string)p!));
        var stores = export["stores"]!.AsObject();
        Assert.Equal(2, stores["orders"]!.AsArray().Count);
        Assert.Single(stores["customerPhones"]!.AsArray());
        Assert.Single(stores["customers"]!.AsArray());

        var erase = await (await _client.PostAsJsonAsync("/api/privacy/erasures", new { phone = other })).ReadJsonAsync<ErasureAccepted>();
        await _client.JobAsync(erase.JobId);

        Assert.Empty(await PersonalDataScan.FindAsync(factory.ConnectionString, [primary, other]));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/customers/{id}")).StatusCode);
        // Both phones are erased: an order of either, dated before the erase, is not stored.
        foreach (var phone in new[] { primary, other })
        {
            var late = await _client.PostAsJsonAsync("/api/orders",
                new { customerPhone = phone, totalAmount = 1, status = "completed", createdAt = factory.Clock.GetUtcNow().AddMinutes(-1) });
            await late.AssertProblemAsync(HttpStatusCode.Conflict);
        }
    }

    // What a merge keeps for its unmerge (the sources as they were, in the ledger) is the
    // person's too: an erase by a phone a source brought leaves none of it, and the merge can
    // no longer be undone.
    [Fact]
    public async Task AnErasureAfterAMergeLeavesNothingOfTheSourcesAndTheMergeCannotBeUndone()
    {
        var (first, second) = (TestPhones.New(), TestPhones.New());
        var ids = new List<long>();
        foreach (var phone in new[] { first, second })
        {
            await _client.PostCompletedOrderAsync(phone, 100m);
            ids.Add((long)(await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(phone), c => c is not null, "the customer"))!["id"]!);
        }
        const string email = "merged.person@example.com";
        Assert.Equal(HttpStatusCode.OK, (await _client.PatchJsonAsync($"/api/customers/{ids[1]}", new { email })).StatusCode);
        var merge = await (await _client.PostAsJsonAsync("/api/customers/merge", new { targetId = ids[0], sourceIds = new[] { ids[1] } })).ReadJsonAsync();
        await _client.JobAsync((string)merge["jobId"]!);

        var erase = await (await _client.PostAsJsonAsync("/api/privacy/erasures", new { phone = second })).ReadJsonAsync<ErasureAccepted>();
        await _client.JobAsync(erase.JobId);

        Assert.Empty(await PersonalDataScan.FindAsync(factory.ConnectionString, [first, second, email]));
        var refused = await (await _client.PostAsync($"/api/customers/merges/{merge["mergeId"]}/unmerge", null)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal((long)merge["mergeId"]!, (long)refused["mergeId"]!);
    }
}
