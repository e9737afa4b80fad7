using System.Net.Http.Json;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Customers;

// A write answers the customer exactly as a read of it does.
public class CustomerCreateAnswerTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task ACreatedCustomerIsAnsweredAsAReadAnswersIt()
    {
        var phone = "+7999" + Random.Shared.Next(1_000_000, 9_999_999);
        var created = await (await _client.PostAsJsonAsync("/api/customers", new { name = "Новый", phone })).ReadJsonAsync();
        var read = await (await _client.GetAsync($"/api/customers/{created["id"]}")).ReadJsonAsync();

        // numeric(…, 2) columns: 0.00 in both, not 0 in one.
        Assert.Equal("0.00", created["totalSpent"]!.ToJsonString());
        Assert.Equal("0.00", created["averageOrder"]!.ToJsonString());
        read.AsObject().Remove("categoryReason");
        Assert.Equal(read.ToJsonString(), created.ToJsonString());
    }
}
