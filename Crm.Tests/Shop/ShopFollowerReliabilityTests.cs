using Crm.Tests.Infrastructure;
using Crm.Tests.Reliability;
using Npgsql;

namespace Crm.Tests.Shop;

// The follower through crashes and mistakes on either side: the shop's server restarted,
// two followers racing, a follower killed with SIGKILL mid-stream, a shop that cannot be
// followed, a mapped column dropped, and shop-unfollow.
public class ShopFollowerReliabilityTests(ShopCluster cluster) : IClassFixture<ShopCluster>
{
    private static readonly TimeSpan ProcessDeadline = TimeSpan.FromMinutes(3);

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static Task<string?> StateAsync(string crm) =>
        ScalarAsync<string?>(crm, "SELECT coalesce((SELECT state || coalesce(': ' || error, '') FROM shop_follower), 'none')");

    // The shop's orders and the CRM's copy, as "id amount phone" lines, for an exact comparison.
    private static Task<string> ShopSideAsync(string shop) => ScalarAsync<string>(shop,
        "SELECT coalesce(string_agg(id || ' ' || total_amount || ' ' || customer_phone, ',' ORDER BY id), '') FROM orders_order");

    private static Task<string> CrmSideAsync(string crm) => ScalarAsync<string>(crm, """
        SELECT coalesce(string_agg(source_id || ' ' || total_amount || ' ' || customer_phone, ',' ORDER BY source_id::bigint), '')
        FROM orders WHERE source = 'shop'
        """);

    private static async Task WaitForSameOrdersAsync(string shop, string crm, TimeSpan? deadline = null)
    {
        var expected = await ShopSideAsync(shop);
        await Waiting.UntilAsync(() => CrmSideAsync(crm), actual => actual == expected, "the CRM's copy equal to the shop's orders", deadline);
    }

    [Fact]
    public async Task TheShopsServerRestartingOnlyPausesTheFollower()
    {
        var shop = await cluster.CreateShopAsync();
        await ShopCluster.InsertOrderAsync(shop, "До", TestPhones.New(), 100m);
        await using var app = new ShopFollowingFactory(shop, ShopCluster.NewSlot());
        await app.InitializeAsync();
        app.CreateClient();
        await Waiting.UntilAsync(() => StateAsync(app.ConnectionString), s => s == "following", "following");

        await cluster.Server.StopAsync();
        await Waiting.UntilAsync(() => StateAsync(app.ConnectionString), s => s!.StartsWith("reconnecting"), "reconnecting");
        await cluster.Server.StartAgainAsync();
        await ShopCluster.InsertOrderAsync(shop, "После", TestPhones.New(), 200m);

        await WaitForSameOrdersAsync(shop, app.ConnectionString);
        await Waiting.UntilAsync(() => StateAsync(app.ConnectionString), s => s == "following", "following again");
    }

    [Fact]
    public async Task TwoFollowersRaceAndOneFollowsUntilItStopsThenTheOtherTakesOver()
    {
        var shop = await cluster.CreateShopAsync();
        var slot = ShopCluster.NewSlot();
        await ShopCluster.InsertOrderAsync(shop, "Один", TestPhones.New(), 100m);
        await using var crm = new RealClockCrmApiFactory();
        await crm.InitializeAsync();
        await using var second = new ShopFollowingFactory(shop, slot, owner: crm);
        var first = new ShopFollowingFactory(shop, slot, owner: crm);
        try
        {
            // Both start at once; one wins the lock and the slot, the other waits.
            await Task.WhenAll(Task.Run(() => first.CreateClient()), Task.Run(() => second.CreateClient()));
            await Waiting.UntilAsync(() => StateAsync(crm.ConnectionString), s => s == "following", "following");
            await WaitForSameOrdersAsync(shop, crm.ConnectionString);
            // 'following' is recorded just before streaming starts: the slot turns active a moment later.
            await Waiting.UntilAsync(() => ScalarAsync<long>(shop,
                $"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}' AND active"), n => n == 1, "one consumer on the slot");
            Assert.Equal(1L, await ScalarAsync<long>(crm.ConnectionString, "SELECT snapshot_rows FROM shop_follower"));
            Assert.Equal(1L, await ScalarAsync<long>(crm.ConnectionString, "SELECT count(*) FROM orders WHERE source = 'shop'"));

            // Whichever holds it goes first: the survivor takes over from the slot, no second snapshot.
            await first.DisposeAsync();
            await ShopCluster.InsertOrderAsync(shop, "Два", TestPhones.New(), 200m);
            await ShopCluster.InsertOrderAsync(shop, "Три", TestPhones.New(), 300m);
            await WaitForSameOrdersAsync(shop, crm.ConnectionString);
            Assert.Equal(1L, await ScalarAsync<long>(crm.ConnectionString, "SELECT snapshot_rows FROM shop_follower"));
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task AFollowerKilledMidStreamLosesAndDoublesNothing()
    {
        var shop = await cluster.CreateShopAsync();
        var slot = ShopCluster.NewSlot();
        // The API and the jobs on the CRM database; the follower in a worker process of its own.
        await using var crm = new RealClockCrmApiFactory();
        await crm.InitializeAsync();
        crm.CreateClient();
        (string, string)[] settings =
        [
            ("Crm__Shop__ConnectionString", shop), ("Crm__Shop__Slot", slot), ("Crm__Shop__StatusInterval", "00:00:01"),
            ("Crm__Shop__MaxReconnectDelay", "00:00:02"), ("Crm__Sync__Cron", ""), ("Crm__Sync__PendingCron", ""),
            ("Crm__Sync__RunPruneCron", ""), ("Crm__Categories__RecalculateCron", "0 0 31 2 *"),
        ];
        var phones = Enumerable.Range(0, 20).Select(_ => TestPhones.New()).ToArray();

        await using (var first = WorkerProcess.Start(crm.ConnectionString, settings))
        {
            await Waiting.UntilAsync(() => StateAsync(crm.ConnectionString), s => s == "following", "following", ProcessDeadline);
            // The shop writes on: inserts, updates and multi-row transactions.
            using var stopWriting = new CancellationTokenSource();
            var writer = Task.Run(async () =>
            {
                for (var i = 0; !stopWriting.IsCancellationRequested || i < 200; i++)
                {
                    var id = await ShopCluster.InsertOrderAsync(shop, "Покупатель", phones[i % phones.Length], 10 + i);
                    if (i % 7 == 0)
                        await ShopCluster.ExecuteAsync(shop, "UPDATE orders_order SET total_amount = total_amount + 1 WHERE id = @id", ("id", id));
                    if (i % 11 == 0)
                        await ShopCluster.ExecuteAsync(shop, """
                            INSERT INTO orders_order (customer_name, customer_phone, customer_email, delivery_city, delivery_address,
                                                      total_amount, status, created_at, updated_at)
                            SELECT 'Пакет', @phone, '', '', '', 5, 'completed', now() - interval '1 hour', now() FROM generate_series(1, 25)
                            """, ("phone", phones[i % phones.Length]));
                }
            });
            await Waiting.UntilAsync(() => ScalarAsync<long>(crm.ConnectionString, "SELECT orders_applied FROM shop_follower"),
                applied => applied >= 40, "some of the stream applied", ProcessDeadline);
            await first.KillAsync();
            await stopWriting.CancelAsync();
            await writer;
        }

        await using var second = WorkerProcess.Start(crm.ConnectionString, settings);
        await WaitForSameOrdersAsync(shop, crm.ConnectionString, ProcessDeadline);
        Assert.Equal(await ScalarAsync<long>(shop, "SELECT count(*) FROM orders_order"),
            await ScalarAsync<long>(crm.ConnectionString, "SELECT count(*) FROM orders WHERE source = 'shop'"));
        await Waiting.UntilAsync(() => CustomerAudit.WrongCustomersAsync(crm.ConnectionString, DateTime.UtcNow),
            wrong => wrong.Count == 0, "every customer exact", ProcessDeadline);
    }

    [Fact]
    public async Task AShopWithoutLogicalWalFailsWithAOneLineReason()
    {
        // The shared test server runs with wal_level = replica.
        var shopDatabase = await TestDatabase.CreateAsync();
        var shop = TestDatabase.ConnectionStringFor(shopDatabase);
        await ShopCluster.ExecuteAsync(shop, ShopCluster.DjangoOrdersTable);
        await using var app = new ShopFollowingFactory(shop, ShopCluster.NewSlot());
        await app.InitializeAsync();
        var client = app.CreateClient();
        var state = await Waiting.UntilAsync(async () => await (await client.GetAsync("/api/shop")).ReadJsonAsync(),
            s => (string?)s["state"] == "failed", "failed");
        Assert.Contains("wal_level = replica", (string)state["error"]!);
        Assert.DoesNotContain("\n", (string)state["error"]!);
        var ready = await (await client.GetAsync("/health/ready")).ReadJsonAsync();
        Assert.Equal("Degraded", (string)ready["checks"]!["shop"]!["status"]!);
        await TestDatabase.DropAsync(shopDatabase);
    }

    [Fact]
    public async Task ANewColumnIsIgnoredAndADroppedMappedColumnStopsTheFollowerClearly()
    {
        var shop = await cluster.CreateShopAsync();
        await using var app = new ShopFollowingFactory(shop, ShopCluster.NewSlot());
        await app.InitializeAsync();
        app.CreateClient();
        await Waiting.UntilAsync(() => StateAsync(app.ConnectionString), s => s == "following", "following");

        await ShopCluster.ExecuteAsync(shop, "ALTER TABLE orders_order ADD COLUMN loyalty_card varchar(20) NOT NULL DEFAULT ''");
        await ShopCluster.InsertOrderAsync(shop, "Новая колонка", TestPhones.New(), 100m);
        await WaitForSameOrdersAsync(shop, app.ConnectionString);

        await ShopCluster.ExecuteAsync(shop, "ALTER TABLE orders_order DROP COLUMN delivery_city");
        await ShopCluster.ExecuteAsync(shop, """
            INSERT INTO orders_order (customer_name, customer_phone, customer_email, delivery_address, total_amount, status, created_at, updated_at)
            VALUES ('Без города', '+79990000000', '', '', 5, 'completed', now(), now())
            """);
        var state = await Waiting.UntilAsync(() => StateAsync(app.ConnectionString), s => s!.StartsWith("failed"), "failed");
        Assert.Contains("delivery_city (Crm:Shop:Columns:DeliveryCity)", state);
    }

    [Fact]
    public async Task ShopUnfollowDropsTheSlotAndOurPublication()
    {
        var shop = await cluster.CreateShopAsync();
        var slot = ShopCluster.NewSlot();
        await using var crm = new RealClockCrmApiFactory();
        await crm.InitializeAsync();
        string[] command = ["shop-unfollow", $"--Crm:Shop:ConnectionString={shop}", $"--Crm:Shop:Slot={slot}"];
        await using (var follower = new ShopFollowingFactory(shop, slot, owner: crm))
        {
            follower.CreateClient();
            await Waiting.UntilAsync(() => StateAsync(crm.ConnectionString), s => s == "following", "following");
            // A running follower holds the lock: the command refuses.
            var refused = await AppProcess.RunAsync(crm.ConnectionString, ProcessDeadline, command);
            Assert.True(refused.ExitCode == 1, refused.Output);
            Assert.Contains("a follower is running", refused.StandardError);
        }

        var (exitCode, output) = await AppProcess.RunAsync(crm.ConnectionString, ProcessDeadline, command);
        Assert.True(exitCode == 0, output);
        Assert.Equal(0L, await ScalarAsync<long>(shop, $"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{slot}'"));
        Assert.Equal(0L, await ScalarAsync<long>(shop, "SELECT count(*) FROM pg_publication WHERE pubname = 'crm_shop_orders'"));
        Assert.Equal(0L, await ScalarAsync<long>(crm.ConnectionString, "SELECT count(*) FROM shop_follower"));
    }
}
