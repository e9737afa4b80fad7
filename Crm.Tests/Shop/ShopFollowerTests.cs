using System.Net;
using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Shop;

// The follower against a real second PostgreSQL with wal_level = logical: the shop's
// Django-shaped orders_order is copied, then streamed, into orders; customers become exact.
public class ShopFollowerTests(ShopCluster cluster) : IClassFixture<ShopCluster>
{
    private static async Task<ShopFollowingFactory> StartAsync(string shop, string? slot = null)
    {
        var app = new ShopFollowingFactory(shop, slot ?? ShopCluster.NewSlot());
        await app.InitializeAsync();
        app.CreateClient(); // starts the host, and with it the follower
        return app;
    }

    private static Task<JsonNode> ShopStateAsync(HttpClient client, Func<JsonNode, bool> done, string what) =>
        Waiting.UntilAsync(async () => await (await client.GetAsync("/api/shop")).ReadJsonAsync(), done, what);

    // The CRM's copy of the shop's orders: shop id → (phone, amount, status).
    private static async Task<Dictionary<string, (string? Phone, decimal Amount, string Status)>> ShopOrdersAsync(CrmApiFactory app)
    {
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT source_id, normalized_phone, total_amount, status FROM orders WHERE source = 'shop'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var orders = new Dictionary<string, (string?, decimal, string)>();
        while (await reader.ReadAsync())
            orders.Add(reader.GetString(0), (reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetDecimal(2), reader.GetString(3)));
        return orders;
    }

    private static Task WaitForCustomersExactAsync(CrmApiFactory app) =>
        Waiting.UntilAsync(() => CustomerAudit.WrongCustomersAsync(app.ConnectionString, DateTime.UtcNow),
            wrong => wrong.Count == 0, "every customer exact");

    [Fact]
    public async Task CopiesTheTableThenStreamsInsertsUpdatesAndDeletes()
    {
        var shop = await cluster.CreateShopAsync();
        var (anna, boris) = (TestPhones.New(), TestPhones.New());
        var first = await ShopCluster.InsertOrderAsync(shop, "Анна", anna, 1500m);
        await ShopCluster.InsertOrderAsync(shop, "Анна", anna, 500m, "cancelled");
        var third = await ShopCluster.InsertOrderAsync(shop, "Борис", boris, 700m);

        await using var app = await StartAsync(shop);
        var client = app.CreateClient();
        var state = await ShopStateAsync(client, s => (string?)s["state"] == "following", "following");
        Assert.Equal(3, (long)state["snapshotRows"]!);
        Assert.Equal(3, (long)state["ordersApplied"]!);
        await WaitForCustomersExactAsync(app);
        var customer = await client.CustomerByPhoneAsync(anna);
        Assert.Equal("Анна", (string)customer!["name"]!);
        Assert.Equal(1500m, (decimal)customer["totalSpent"]!);

        // The stream: an insert, an update, a delete, each its own shop transaction.
        var fourth = await ShopCluster.InsertOrderAsync(shop, "Анна", anna, 250m);
        await ShopCluster.ExecuteAsync(shop, "UPDATE orders_order SET total_amount = 900, updated_at = now() WHERE id = @id", ("id", third));
        await ShopCluster.ExecuteAsync(shop, "DELETE FROM orders_order WHERE id = @id", ("id", first));

        var orders = await Waiting.UntilAsync(() => ShopOrdersAsync(app),
            o => o.Count == 3 && !o.ContainsKey(first.ToString()) && o.GetValueOrDefault(third.ToString()).Amount == 900m,
            "the stream applied");
        Assert.Equal((anna, 250m, "completed"), orders[fourth.ToString()]);
        await WaitForCustomersExactAsync(app);
        Assert.Equal(250m, (decimal)(await client.CustomerByPhoneAsync(anna))!["totalSpent"]!);
        Assert.Equal(900m, (decimal)(await client.CustomerByPhoneAsync(boris))!["totalSpent"]!);

        // Shop orders say where they came from, and the shop owns them.
        var order = (await (await client.GetAsync($"/api/customers/{customer["id"]}/orders")).ReadJsonAsync())["items"]![0]!;
        Assert.Equal("shop", (string)order["source"]!);
        Assert.Equal(fourth.ToString(), (string)order["sourceId"]!);
        var patch = await client.PatchJsonAsync($"/api/orders/{order["id"]}", new { totalAmount = 1 });
        Assert.Equal(HttpStatusCode.Conflict, patch.StatusCode);

        state = await ShopStateAsync(client, s => (long)s["ordersApplied"]! == 6, "six changes applied");
        Assert.Equal(0, (long)state["rejected"]!);
        Assert.NotNull(state["lastAppliedAt"]);

        // The Syncs page of the dashboard shows the follower too.
        var dashboard = app.CreateClient(key: null);
        dashboard.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{TestKeys.Reader.Name}:{TestKeys.Reader.Key}")));
        var page = await dashboard.GetStringAsync("/hangfire/syncs");
        Assert.Contains("State <b>following</b>", page);
        Assert.Contains("6 changes applied", page);
    }

    [Fact]
    public async Task APhoneThatChangesResyncsBothCustomers()
    {
        var shop = await cluster.CreateShopAsync();
        var (before, after) = (TestPhones.New(), TestPhones.New());
        await ShopCluster.InsertOrderAsync(shop, "Вера", before, 300m);
        var moving = await ShopCluster.InsertOrderAsync(shop, "Вера", before, 1000m);

        await using var app = await StartAsync(shop);
        var client = app.CreateClient();
        await ShopStateAsync(client, s => (string?)s["state"] == "following", "following");
        await WaitForCustomersExactAsync(app);

        await ShopCluster.ExecuteAsync(shop, "UPDATE orders_order SET customer_phone = @phone WHERE id = @id",
            ("phone", after), ("id", moving));
        await Waiting.UntilAsync(() => client.CustomerByPhoneAsync(after), c => c is not null, "the new phone's customer");
        await WaitForCustomersExactAsync(app);
        Assert.Equal(300m, (decimal)(await client.CustomerByPhoneAsync(before))!["totalSpent"]!);
        Assert.Equal(1000m, (decimal)(await client.CustomerByPhoneAsync(after))!["totalSpent"]!);

        // A changed key: the old shop id goes, the new one comes, nothing is counted twice.
        await ShopCluster.ExecuteAsync(shop, "UPDATE orders_order SET id = id + 100000 WHERE id = @id", ("id", moving));
        var orders = await Waiting.UntilAsync(() => ShopOrdersAsync(app),
            o => o.ContainsKey((moving + 100000).ToString()) && !o.ContainsKey(moving.ToString()), "the order under its new id");
        Assert.Equal(2, orders.Count);
        await WaitForCustomersExactAsync(app);
        Assert.Equal(1000m, (decimal)(await client.CustomerByPhoneAsync(after))!["totalSpent"]!);
    }

    [Fact]
    public async Task BadRowsAreRecordedSkippedAndCountedWhileTheStreamGoesOn()
    {
        // A shop whose schema lets bad values through: amount may be null, the date is text.
        var shop = await cluster.CreateShopAsync(ShopCluster.DjangoOrdersTable
            .Replace("total_amount numeric(10, 2) NOT NULL", "total_amount numeric(10, 2)")
            .Replace("created_at timestamp with time zone NOT NULL", "created_at varchar(40) NOT NULL"));
        var phone = TestPhones.New();
        await ShopCluster.ExecuteAsync(shop, """
            INSERT INTO orders_order (id, customer_name, customer_phone, customer_email, delivery_city, delivery_address,
                                      total_amount, status, created_at, updated_at) VALUES
                (1, 'Без суммы', @phone, '', '', '', NULL, 'completed', '2026-11-01 10:00:00+00', now()),
                (2, 'Хороший', @phone, '', '', '', 100, 'completed', '2026-11-01 10:00:00+00', now())
            """, ("phone", phone));

        await using var app = await StartAsync(shop);
        var client = app.CreateClient();
        await ShopStateAsync(client, s => (string?)s["state"] == "following" && (long)s["rejected"]! == 1, "one rejection in the snapshot");

        await ShopCluster.ExecuteAsync(shop, """
            INSERT INTO orders_order (id, customer_name, customer_phone, customer_email, delivery_city, delivery_address,
                                      total_amount, status, created_at, updated_at) VALUES
                (3, 'Минус', @phone, '', '', '', -5, 'completed', '2026-11-01 10:00:00+00', now()),
                (4, 'Статус', @phone, '', '', '', 10, 'lost', '2026-11-01 10:00:00+00', now()),
                (5, 'Дата', @phone, '', '', '', 10, 'completed', 'вчера', now()),
                (6, 'Тоже хороший', @phone, '', '', '', 50, 'completed', '2026-11-02 10:00:00+00', now())
            """, ("phone", phone));

        var state = await ShopStateAsync(client, s => (long)s["rejected"]! == 4, "four rejections");
        Assert.Equal("following", (string)state["state"]!);
        var orders = await Waiting.UntilAsync(() => ShopOrdersAsync(app), o => o.ContainsKey("6"), "the good row after the bad ones");
        Assert.Equal(["2", "6"], orders.Keys.Order());
        await WaitForCustomersExactAsync(app);
        Assert.Equal(150m, (decimal)(await client.CustomerByPhoneAsync(phone))!["totalSpent"]!);

        var rejections = (await (await client.GetAsync("/api/shop/rejections")).ReadJsonAsync())["items"]!.AsArray();
        var reasons = rejections.ToDictionary(r => (string)r!["shopId"]!, r => (string)r!["reason"]!);
        Assert.Equal(["1", "3", "4", "5"], reasons.Keys.Order());
        Assert.Contains("no amount", reasons["1"]);
        Assert.Contains("totalAmount", reasons["3"]);
        Assert.Contains("'lost' is not mapped", reasons["4"]);
        Assert.Contains("'вчера' is not a date", reasons["5"]);
    }
}
