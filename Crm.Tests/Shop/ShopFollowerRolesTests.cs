using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Npgsql;

namespace Crm.Tests.Shop;

// The follower with the least privileges on both sides: on the shop, the dedicated role
// docs/SHOP.md recommends (REPLICATION, SELECT on the table, row_security off, owner of
// nothing); in the CRM, a worker connected as crm_app (docs/SECURITY.md#database-roles).
public class ShopFollowerRolesTests(ShopCluster cluster) : IClassFixture<ShopCluster>
{
    private const string FollowerPassword = "test-only-follower-password";

    private sealed class Following(string shop, string slot) : DatabaseRolesFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:Shop:ConnectionString", shop);
            builder.UseSetting("Crm:Shop:Slot", slot);
            builder.UseSetting("Crm:Shop:StatusInterval", "00:00:01");
            builder.UseSetting("Crm:Shop:MaxReconnectDelay", "00:00:02");
        }
    }

    [Fact]
    public async Task TheRecommendedShopRoleAndTheAppRoleCopyAndStreamTheShop()
    {
        var admin = await cluster.CreateShopAsync();
        var role = $"crm_follower_{Guid.NewGuid():N}"[..24];
        await ShopCluster.ExecuteAsync(admin, $"""
            CREATE ROLE {role} WITH LOGIN REPLICATION CONNECTION LIMIT 5 PASSWORD '{FollowerPassword}';
            GRANT SELECT ON public.orders_order TO {role};
            ALTER ROLE {role} SET row_security = off;
            CREATE PUBLICATION crm_shop_orders FOR TABLE public.orders_order;
            """);
        var shop = new NpgsqlConnectionStringBuilder(admin) { Username = role, Password = FollowerPassword }.ConnectionString;
        var anna = TestPhones.New();
        await ShopCluster.InsertOrderAsync(admin, "Анна", anna, 1500m);

        var app = new Following(shop, ShopCluster.NewSlot());
        await app.InitializeAsync();
        try
        {
            var client = app.CreateClient();
            var state = await Waiting.UntilAsync(async () => await (await client.GetAsync("/api/shop")).ReadJsonAsync(),
                s => (string?)s["state"] is "following" or "failed", "following");
            Assert.True((string?)state["state"] == "following", state.ToJsonString());
            Assert.Equal(1, (long)state["snapshotRows"]!);

            await ShopCluster.InsertOrderAsync(admin, "Анна", anna, 500m);
            var customer = await Waiting.UntilAsync(() => client.CustomerByPhoneAsync(anna),
                c => c is not null && (decimal)c["totalSpent"]! == 2000m, "the streamed order synced");
            Assert.Equal("Анна", (string)customer!["name"]!);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    // Why docs/SHOP.md recommends row_security = off: the snapshot is a SELECT, filtered by
    // row-level security; with the setting on (PostgreSQL's default) a policy the follower's
    // role does not pass empties the copy silently, with it off the follower fails (state `failed`) and says so.
    [Theory]
    [InlineData("on", "following")]
    [InlineData("off", "failed")]
    public async Task RowLevelSecurityOnTheShopsTableFailsTheSnapshotOnlyWithRowSecurityOff(string rowSecurity, string expected)
    {
        var admin = await cluster.CreateShopAsync();
        var role = $"crm_follower_{Guid.NewGuid():N}"[..24];
        await ShopCluster.ExecuteAsync(admin, $"""
            CREATE ROLE {role} WITH LOGIN REPLICATION PASSWORD '{FollowerPassword}';
            GRANT SELECT ON public.orders_order TO {role};
            ALTER ROLE {role} SET row_security = {rowSecurity};
            CREATE PUBLICATION crm_shop_orders FOR TABLE public.orders_order;
            ALTER TABLE public.orders_order ENABLE ROW LEVEL SECURITY;
            """);
        await ShopCluster.InsertOrderAsync(admin, "Анна", TestPhones.New(), 1500m);
        var shop = new NpgsqlConnectionStringBuilder(admin) { Username = role, Password = FollowerPassword }.ConnectionString;

        var app = new Following(shop, ShopCluster.NewSlot());
        await app.InitializeAsync();
        try
        {
            var client = app.CreateClient();
            var state = await Waiting.UntilAsync(async () => await (await client.GetAsync("/api/shop")).ReadJsonAsync(),
                s => (string?)s["state"] is "following" or "failed",
                "following, or the snapshot refused");
            Assert.True((string?)state["state"] == expected, state.ToJsonString());
            if (expected == "failed")
                Assert.Contains("row-level security", (string)state["error"]!);
            // The shop has an order: filtered away silently, or not copied and said so (retried until fixed).
            Assert.Equal(0, (long)state["snapshotRows"]!);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
