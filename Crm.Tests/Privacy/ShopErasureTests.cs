using System.Net;
using System.Net.Http.Json;
using Crm.Api.Privacy;
using Crm.Tests.Infrastructure;
using Crm.Tests.Shop;
using Npgsql;

namespace Crm.Tests.Privacy;

// The shop's database still has an erased person's orders: neither its stream (an old order's
// later update included) nor a new snapshot of the whole table brings them back, while a new
// order of theirs starts a new customer.
public class ShopErasureTests(ShopCluster cluster) : IClassFixture<ShopCluster>
{
    private static async Task<ShopFollowingFactory> FollowAsync(string shop, CrmApiFactory owner)
    {
        var follower = new ShopFollowingFactory(shop, ShopCluster.NewSlot(), owner);
        await follower.InitializeAsync();
        var client = follower.CreateClient(); // starts the host, and with it the follower
        await Waiting.UntilAsync(async () => await (await client.GetAsync("/api/shop")).ReadJsonAsync(),
            s => (string?)s["state"] == "following", "following");
        return follower;
    }

    private static async Task<long> CountAsync(string connectionString, string sql, params (string, object)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task NeitherTheStreamNorANewSnapshotBringsAnErasedPersonBack()
    {
        var shop = await cluster.CreateShopAsync();
        var (raw, person) = TestPhones.NewSpelledWith8();
        var other = TestPhones.New();
        var old = await ShopCluster.InsertOrderAsync(shop, "Шоп Стираемый", raw, 1200m);
        await ShopCluster.InsertOrderAsync(shop, "Шоп Стираемый", raw, 300m);
        await ShopCluster.InsertOrderAsync(shop, "Другой", other, 50m);

        await using var owner = new RealClockCrmApiFactory();
        await owner.InitializeAsync();
        var client = owner.CreateClient();
        var orders = "SELECT count(*) FROM orders WHERE normalized_phone = @phone";

        await using (var follower = await FollowAsync(shop, owner))
        {
            await Waiting.UntilAsync(() => client.CustomerByPhoneAsync(person), c => c is not null, "the person's customer");
            var erase = await (await client.PostAsJsonAsync("/api/privacy/erasures", new { phone = raw })).ReadJsonAsync<ErasureAccepted>();
            await client.JobAsync(erase.JobId);
            Assert.Equal(0, await CountAsync(owner.ConnectionString, orders, ("phone", person)));

            // The stream: an old order of theirs changes, then someone else orders (a marker
            // that the change before it was applied).
            await ShopCluster.ExecuteAsync(shop, "UPDATE orders_order SET total_amount = 1300, updated_at = now() WHERE id = @id", ("id", old));
            await ShopCluster.InsertOrderAsync(shop, "Другой", other, 60m);
            await Waiting.UntilAsync(() => CountAsync(owner.ConnectionString, orders, ("phone", other)), n => n == 2, "the marker order");
            Assert.Equal(0, await CountAsync(owner.ConnectionString, orders, ("phone", person)));
            var metrics = await follower.CreateClient(null).GetStringAsync("/metrics");
            Assert.Contains("skipped_erased", metrics);
            // The follower's pool to the shop is named, never by its connection string (docs/SECURITY.md).
            Assert.Contains("pool_name=\"shop\"", metrics);
            Assert.DoesNotContain("Host=", metrics);
        }

        // A new slot: the whole table is copied again.
        await using (var follower = await FollowAsync(shop, owner))
        {
            Assert.Equal(0, await CountAsync(owner.ConnectionString, orders, ("phone", person)));
            Assert.Equal(2, await CountAsync(owner.ConnectionString, orders, ("phone", other)));
            Assert.Empty(await PersonalDataScan.FindAsync(owner.ConnectionString, person, raw, "Шоп Стираемый"));

            // A new order is a new relationship.
            await ShopCluster.InsertOrderAsync(shop, "Шоп Стираемый", raw, 99m, createdAt: DateTimeOffset.UtcNow);
            var customer = await Waiting.UntilAsync(() => client.CustomerByPhoneAsync(person), c => c is not null, "a new customer");
            Assert.Equal(99m, (decimal)customer!["totalSpent"]!);
        }
    }
}
