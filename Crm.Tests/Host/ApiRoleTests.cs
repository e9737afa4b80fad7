using System.Net;
using System.Net.Http.Json;
using Crm.Jobs.Shop;
using Crm.Tests.Infrastructure;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Host;

public class ApiRoleTests(ApiRoleFactory api) : IClassFixture<ApiRoleFactory>
{
    [Fact]
    public async Task AnApiHostOnlyEnqueuesAndASeparateWorkerOnTheSameDatabaseRunsTheJob()
    {
        var client = api.CreateClient();
        var storage = api.Services.GetRequiredService<JobStorage>();

        var response = await client.PostAsJsonAsync("/api/orders", new
        {
            customerName = "Ольга Смирнова", customerPhone = "+79991234567", totalAmount = 1200m, status = "completed",
        });

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var jobId = (string)(await response.ReadJsonAsync())["syncJobId"]!;
        var queued = await (await client.GetAsync($"/api/jobs/{jobId}")).ReadJsonAsync();
        Assert.Equal("Enqueued", (string)queued["state"]!);
        Assert.Empty(storage.GetMonitoringApi().Servers());

        // A second host on the same database; the api host's fixture keeps (and drops) the database.
        await using var worker = new SharedDatabaseFactory(api, role: "worker");
        // The first request starts the worker's host and with it its job servers.
        Assert.Equal(HttpStatusCode.OK, (await worker.CreateClient().GetAsync("/health/live")).StatusCode);

        var job = await client.JobAsync(jobId);
        Assert.Equal(1, (int)job["result"]!["createdCount"]!);
        Assert.NotEmpty(storage.GetMonitoringApi().Servers());
        await using var db = api.CreateDbContext();
        var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Phone == "+79991234567");
        Assert.Equal(("Ольга Смирнова", 1, 1200m), (customer.Name, customer.TotalOrders, customer.TotalSpent));
    }

    // The API of a deployment has no shop connection string (only followers hold that secret:
    // docker-compose.yml); it reports the follower from its row in the CRM database.
    [Fact]
    public async Task AnApiHostWithoutTheShopConnectionStringReportsTheFollowersRow()
    {
        var client = api.CreateClient();
        Assert.Equal("disabled", (string)(await (await client.GetAsync("/api/shop")).ReadJsonAsync())["state"]!);

        await using var db = api.CreateDbContext();
        db.ShopFollower.Add(new ShopFollowerState
        {
            State = ShopFollowerStatus.Following, Slot = "crm_shop_orders", Publication = "crm_shop_orders",
            OrdersApplied = 7, LagBytes = 0, Holder = "worker-1:42", UpdatedAt = api.Clock.GetUtcNow().UtcDateTime,
        });
        await db.SaveChangesAsync();
        try
        {
            var shop = await (await client.GetAsync("/api/shop")).ReadJsonAsync();
            Assert.Equal(("following", 7L, "worker-1:42"), ((string)shop["state"]!, (long)shop["ordersApplied"]!, (string)shop["holder"]!));
        }
        finally
        {
            await db.ShopFollower.ExecuteDeleteAsync();
        }
    }
}
