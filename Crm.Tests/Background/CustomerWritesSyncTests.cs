using System.Net;
using System.Net.Http.Json;
using Crm.Api.Customers;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Background;

// A customer written through the API for a phone that already has orders gets those orders'
// statistics from a sync of its own, not from the nightly run: creating it, and moving it to
// another phone (whose old phone's orders get their customer back).
public class CustomerWritesSyncTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(45);

    private readonly HttpClient _client = factory.CreateClient();

    // Orders written straight into the table: no sync request, as an order from before the CRM.
    private async Task AddOrdersAsync(string phone, params decimal[] amounts)
    {
        await using var db = factory.CreateDbContext();
        foreach (var amount in amounts)
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO orders (customer_name, customer_phone, normalized_phone, total_amount, status, created_at, updated_at)
                VALUES ('Из магазина', {phone}, {phone}, {amount}, 'completed', now() - interval '1 day', now())
                """);
    }

    private async Task<CustomerResponse> CustomerAsync(long id) =>
        await (await _client.GetAsync($"/api/customers/{id}")).ReadJsonAsync<CustomerResponse>();

    [Fact]
    public async Task ACustomerCreatedForAPhoneWithOrdersGetsTheirStatistics()
    {
        var phone = TestPhones.New();
        await AddOrdersAsync(phone, 100m, 250m);

        var created = await _client.PostAsJsonAsync("/api/customers", new { name = "Иван Петров", phone });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.ReadJsonAsync<CustomerResponse>()).Id;

        var customer = await Waiting.UntilAsync(() => CustomerAsync(id), c => c.TotalOrders == 2,
            "the new customer's statistics", Deadline);
        Assert.Equal(350m, customer.TotalSpent);
        Assert.Equal("Иван Петров", customer.Name);
    }

    [Fact]
    public async Task ACustomerMovedToAnotherPhoneGetsItsStatisticsAndTheOldPhoneItsCustomerBack()
    {
        var (oldPhone, newPhone) = (TestPhones.New(), TestPhones.New());
        await AddOrdersAsync(oldPhone, 100m);
        await AddOrdersAsync(newPhone, 10m, 20m, 30m);
        var created = await _client.PostAsJsonAsync("/api/customers", new { name = "Ольга", phone = oldPhone });
        var id = (await created.ReadJsonAsync<CustomerResponse>()).Id;
        await Waiting.UntilAsync(() => CustomerAsync(id), c => c.TotalOrders == 1, "the statistics of the old phone", Deadline);

        var moved = await _client.PatchAsJsonAsync($"/api/customers/{id}", new { phone = newPhone });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);

        var customer = await Waiting.UntilAsync(() => CustomerAsync(id), c => c.TotalOrders == 3,
            "the moved customer's statistics", Deadline);
        Assert.Equal(60m, customer.TotalSpent);
        var recreated = await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(oldPhone), c => c is not null,
            "a customer for the old phone's orders", Deadline);
        Assert.NotEqual(id, (long)recreated!["id"]!);
        Assert.Equal(100m, (decimal)recreated["totalSpent"]!);
    }
}
