using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Api.Privacy;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Shop;

// The first copy of the shop's table: alive in GET /api/shop while it runs, snapshotRows
// counting the rows stored, the indexes of orders built once after it.
public class ShopSnapshotTests(ShopCluster cluster) : IClassFixture<ShopCluster>
{
    private static Task<JsonNode> ShopStateAsync(HttpClient client, Func<JsonNode, bool> done, string what) =>
        Waiting.UntilAsync(async () => await (await client.GetAsync("/api/shop")).ReadJsonAsync(), done, what);

    // How long the snapshot's statement that asks for its customers' full sync (its last
    // before the commit) has waited for its lock (0: it does not wait).
    private const string SnapshotWaitingSql = """
        SELECT coalesce(max(extract(epoch FROM clock_timestamp() - a.query_start)), 0)::float8
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE NOT l.granted AND l.relation = 'pending_sync_dispatch'::regclass AND a.query LIKE '%full_sync_requested_at = clock_timestamp()%'
        """;

    private static async Task<double> SecondsSnapshotWaitingAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(SnapshotWaitingSql, connection);
        return (double)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task ASnapshotLongerThanTheSilenceThresholdShowsSnapshottingAndItsProgress()
    {
        var shop = await cluster.CreateShopAsync();
        for (var i = 0; i < 3; i++)
            await ShopCluster.InsertOrderAsync(shop, "Анна", TestPhones.New(), 100m + i);
        // Silent for max(3 × StatusInterval, StaleAfter) = 5 s: the follower is taken for gone.
        await using var app = new ShopFollowingFactory(shop, ShopCluster.NewSlot(), null, ("Crm:Shop:StaleAfter", "00:00:05"));
        await app.InitializeAsync();

        // Writers of the sync dispatch wait while this transaction holds the lock: the snapshot
        // stops after its copy, as it asks for its customers' full sync, for as long as the test likes.
        await using var blocker = new NpgsqlConnection(app.ConnectionString);
        await blocker.OpenAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await using (var lockRequests = new NpgsqlCommand("LOCK TABLE pending_sync_dispatch IN SHARE MODE", blocker, transaction))
            await lockRequests.ExecuteNonQueryAsync();

        var client = app.CreateClient(); // starts the follower
        await Waiting.UntilAsync(() => SecondsSnapshotWaitingAsync(app.ConnectionString), s => s > 8,
            "the snapshot waiting on the sync dispatch for longer than a silent follower is believed");
        var state = await (await client.GetAsync("/api/shop")).ReadJsonAsync();
        Assert.Equal("snapshotting", (string)state["state"]!);
        Assert.Null((string?)state["error"]);
        Assert.Equal(3, (long)state["snapshotRows"]!);

        await transaction.RollbackAsync();
        state = await ShopStateAsync(client, s => (string?)s["state"] == "following", "following");
        Assert.Equal(3, (long)state["snapshotRows"]!);
    }

    [Fact]
    public async Task SnapshotRowsCountsTheRowsStoredNotTheRejectedOnes()
    {
        var shop = await cluster.CreateShopAsync();
        var phone = TestPhones.New();
        await ShopCluster.InsertOrderAsync(shop, "Анна", phone, 100m);
        await ShopCluster.InsertOrderAsync(shop, "Анна", phone, 200m, "shipped");
        await ShopCluster.InsertOrderAsync(shop, "Анна", phone, 300m, "cancelled");

        await using var app = new ShopFollowingFactory(shop, ShopCluster.NewSlot());
        await app.InitializeAsync();
        var client = app.CreateClient();
        var state = await ShopStateAsync(client, s => (string?)s["state"] == "following", "following");
        Assert.Equal(1, (long)state["rejected"]!);
        Assert.Equal(2, (long)state["snapshotRows"]!);
        Assert.Equal(2, (long)state["ordersApplied"]!);
    }

    // The shop's orders as the CRM stored them.
    private const string ShopOrdersSql = """
        SELECT source_id || ' ' || customer_name || ' ' || normalized_phone || ' ' || delivery_city || ' ' || delivery_address
               || ' ' || total_amount || ' ' || status || ' ' || (updated_at IS NOT NULL)
        FROM orders WHERE source = 'shop' ORDER BY source_id
        """;

    private static async Task<List<string>> QueryAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
            rows.Add(reader.GetString(0));
        return rows;
    }

    // The first snapshot (orders without shop orders) copies the checked rows straight into
    // orders: the same rows stored, refused and skipped as through shop_incoming and the MERGE.
    [Fact]
    public async Task TheFirstSnapshotStoresTheValidRowsRefusesTheOthersAndSkipsAnErasedPersonsOrders()
    {
        var shop = await cluster.CreateShopAsync();
        var phone = TestPhones.New();
        var (raw, erasedPhone) = TestPhones.NewSpelledWith8();
        var completed = await ShopCluster.InsertOrderAsync(shop, "Анна", phone, 100.5m);
        var cancelled = await ShopCluster.InsertOrderAsync(shop, "Анна", phone, 200m, "cancelled", city: "Казань");
        await ShopCluster.InsertOrderAsync(shop, "Анна", phone, 300m, "shipped");
        await ShopCluster.InsertOrderAsync(shop, "Анна", phone, -1m);
        await ShopCluster.InsertOrderAsync(shop, "Шоп Стёртая", raw, 50m);

        await using var owner = new RealClockCrmApiFactory();
        await owner.InitializeAsync();
        var client = owner.CreateClient();
        // Erased before the first start: the shop still has an order of hers from before.
        var erase = await (await client.PostAsJsonAsync("/api/privacy/erasures", new { phone = raw })).ReadJsonAsync<ErasureAccepted>();
        await client.JobAsync(erase.JobId);
        await owner.ExecuteAsync("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, total_amount, status, created_at, updated_at)
            VALUES ('Свой заказ', '+79990000001', '+79990000001', 10, 'completed', now(), now())
            """);

        await using var app = new ShopFollowingFactory(shop, ShopCluster.NewSlot(), owner: owner);
        var state = await ShopStateAsync(app.CreateClient(), s => (string?)s["state"] == "following", "following");
        Assert.Equal(2, (long)state["snapshotRows"]!);
        Assert.Equal(2, (long)state["rejected"]!);
        // Straight into orders: no session staged the rows (the shop made no change since).
        Assert.Empty(await QueryAsync(owner.ConnectionString,
            "SELECT relname::text FROM pg_class WHERE relname = 'shop_incoming' AND relpersistence = 't'"));

        Assert.Equal(
            [$"{completed} Анна {phone} Москва ул. Ленина, 1 100.50 completed true", $"{cancelled} Анна {phone} Казань ул. Ленина, 1 200.00 cancelled true"],
            (await QueryAsync(owner.ConnectionString, ShopOrdersSql)).Order(StringComparer.Ordinal));
        Assert.Equal(["Свой заказ"], await QueryAsync(owner.ConnectionString, "SELECT customer_name FROM orders WHERE source = 'api'"));
        Assert.Empty(await QueryAsync(owner.ConnectionString, $"SELECT source_id FROM orders WHERE normalized_phone = '{erasedPhone}'"));
        Assert.Equal(2, (await QueryAsync(owner.ConnectionString, "SELECT reason FROM shop_rejections")).Count);
        var customer = await Waiting.UntilAsync(() => client.CustomerByPhoneAsync(phone), c => c is not null, "the customer");
        Assert.Equal(100.5m, (decimal)customer!["totalSpent"]!);
    }

    // Copied straight into orders, the table's customers are made by one full auto sync that the
    // snapshot asked for in its own transaction, not by a sync request per phone; a process that
    // died between that commit and queueing the sync leaves the request to the sweeper.
    [Fact]
    public async Task TheFirstSnapshotAsksForOneFullSyncAndTheSweeperQueuesItIfNobodyDid()
    {
        var shop = await cluster.CreateShopAsync();
        var phones = new[] { TestPhones.New(), TestPhones.New() };
        foreach (var phone in phones)
            await ShopCluster.InsertOrderAsync(shop, "Анна", phone, 100m);

        await using var app = new ShopFollowingFactory(shop, ShopCluster.NewSlot());
        await app.InitializeAsync();
        var client = app.CreateClient();
        foreach (var phone in phones)
            await Waiting.UntilAsync(() => client.CustomerByPhoneAsync(phone), c => c is not null, "the shop's customer");
        await Waiting.UntilAsync(() => QueryAsync(app.ConnectionString, FullSyncRequestSql), r => r.Single() == "none", "the request cleared");
        Assert.Empty(await QueryAsync(app.ConnectionString,
            $"SELECT phone FROM customer_sync_requests WHERE phone IN ('{phones[0]}', '{phones[1]}')"));
        var jobId = Assert.Single(await QueryAsync(app.ConnectionString, "SELECT job_id FROM sync_runs WHERE created_count = 2"));
        using (var hangfire = app.Services.GetRequiredService<JobStorage>().GetConnection())
            Assert.Equal(nameof(SyncJobs.FullSyncAsync), hangfire.GetJobData(jobId).Job.Method.Name);

        // As a crash leaves it: orders and the request committed, no job queued.
        var lost = TestPhones.New();
        await app.ExecuteAsync($"""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, total_amount, status, created_at, updated_at)
            VALUES ('Потерянная', '{lost}', '{lost}', 70, 'completed', now(), now());
            UPDATE pending_sync_dispatch SET full_sync_requested_at = now() - interval '10 minutes';
            """);
        app.Services.GetRequiredService<IRecurringJobManager>().Trigger(SyncJobs.PendingSyncRecurringJobId);
        var customer = await Waiting.UntilAsync(() => client.CustomerByPhoneAsync(lost), c => c is not null, "the swept customer");
        Assert.Equal(70m, (decimal)customer!["totalSpent"]!);
        await Waiting.UntilAsync(() => QueryAsync(app.ConnectionString, FullSyncRequestSql), r => r.Single() == "none", "the request cleared");
    }

    private const string FullSyncRequestSql =
        "SELECT coalesce(full_sync_requested_at::text, 'none') FROM pending_sync_dispatch";

    // Each index of orders: name → (oid, definition).
    private const string OrdersIndexesSql = """
        SELECT c.relname, c.oid::bigint, pg_get_indexdef(c.oid)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'orders'::regclass
        """;

    private static async Task<Dictionary<string, (long Oid, string Definition)>> OrdersIndexesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(OrdersIndexesSql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var indexes = new Dictionary<string, (long, string)>();
        while (await reader.ReadAsync())
            indexes.Add(reader.GetString(0), (reader.GetInt64(1), reader.GetString(2)));
        return indexes;
    }

    [Fact]
    public async Task TheFirstSnapshotBuildsTheSecondaryIndexesOfOrdersOnceAfterItsCopy()
    {
        var shop = await cluster.CreateShopAsync();
        for (var i = 0; i < 3; i++)
            await ShopCluster.InsertOrderAsync(shop, "Анна", TestPhones.New(), 100m + i);
        await using var app = new ShopFollowingFactory(shop, ShopCluster.NewSlot());
        await app.InitializeAsync();
        var before = await OrdersIndexesAsync(app.ConnectionString);

        var client = app.CreateClient();
        await ShopStateAsync(client, s => (string?)s["state"] == "following", "following");

        // The same indexes; the secondary ones built anew (new oids), the keys kept.
        var after = await OrdersIndexesAsync(app.ConnectionString);
        Assert.Equal(before.ToDictionary(i => i.Key, i => i.Value.Definition), after.ToDictionary(i => i.Key, i => i.Value.Definition));
        var rebuilt = after.Where(i => i.Value.Oid != before[i.Key].Oid).Select(i => i.Key).Order().ToList();
        Assert.Equal(before.Keys.Where(n => !n.StartsWith("pk_") && !n.Contains("source")).Order(), rebuilt);
        Assert.NotEmpty(rebuilt);
        await using var connection = new NpgsqlConnection(app.ConnectionString);
        await connection.OpenAsync();
        // None of orders' waits (the customers' first sync that follows may be deferring its own).
        await using var waiting = new NpgsqlCommand("SELECT count(*) FROM deferred_indexes WHERE definition LIKE '% ON public.orders %'", connection);
        Assert.Equal(0L, (long)(await waiting.ExecuteScalarAsync())!);
    }

    // A CRM with many orders of its own (the API's, imports) keeps them served by their indexes
    // while the first snapshot runs: nothing is dropped.
    [Fact]
    public async Task ACrmWithManyOrdersOfItsOwnKeepsTheIndexesOfOrdersThroughTheFirstSnapshot()
    {
        var shop = await cluster.CreateShopAsync();
        await ShopCluster.InsertOrderAsync(shop, "Анна", TestPhones.New(), 100m);
        await using var crm = new RealClockCrmApiFactory();
        await crm.InitializeAsync();
        await crm.ExecuteAsync($"""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, total_amount, status, created_at, updated_at)
            SELECT 'Свой заказ', p, p, 100, 'completed', now(), now()
            FROM (SELECT '+7999' || lpad(i::text, 7, '0') AS p FROM generate_series(1, {DeferredIndexes.MaxOwnOrdersToDefer + 1}) AS i) g
            """);
        var before = await OrdersIndexesAsync(crm.ConnectionString);

        await using var app = new ShopFollowingFactory(shop, ShopCluster.NewSlot(), owner: crm);
        var client = app.CreateClient();
        await ShopStateAsync(client, s => (string?)s["state"] == "following" && (long)s["snapshotRows"]! == 1, "following");

        Assert.Equal(before, await OrdersIndexesAsync(crm.ConnectionString));
    }
}
