using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Crm.Api.Privacy;
using Crm.Jobs.Shop;
using Crm.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace Crm.Tests.Shop;

// A shop transaction bigger than the follower should hold in memory (a Django data
// migration): staged in slices of Crm:Shop:StageSliceRows inside one CRM transaction and
// applied at its commit, exactly as a small one; a crash in the middle applies nothing of it.
public class ShopBigTransactionTests(ShopCluster cluster, ITestOutputHelper output) : IClassFixture<ShopCluster>
{
    private static readonly TimeSpan ProcessDeadline = TimeSpan.FromMinutes(6);

    private const string Columns =
        "id, customer_name, customer_phone, customer_email, delivery_city, delivery_address, total_amount, status, created_at, updated_at";

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return (T)(await command.ExecuteScalarAsync())!;
    }

    // 'following' once the first copy is in (the row says 'following' a moment before the copy starts).
    private static Task<string?> StateAsync(string crm) => ScalarAsync<string?>(crm, """
        SELECT coalesce((SELECT state || coalesce(': ' || error, '') FROM shop_follower WHERE applied_lsn IS NOT NULL), 'none')
        """);

    private static Task<long> AppliedAsync(string crm) =>
        ScalarAsync<long>(crm, "SELECT coalesce((SELECT orders_applied FROM shop_follower), -1)");

    // The shop's orders (but those left out on purpose) and the CRM's copy, as "id amount phone status" lines.
    private static Task<string> ShopSideAsync(string shop, string except = "false") => ScalarAsync<string>(shop, $"""
        SELECT coalesce(string_agg(id || ' ' || total_amount || ' ' || customer_phone || ' ' || status, ',' ORDER BY id), '')
        FROM orders_order WHERE NOT ({except})
        """);

    private static Task<string> CrmSideAsync(string crm) => ScalarAsync<string>(crm, """
        SELECT coalesce(string_agg(source_id || ' ' || total_amount || ' ' || customer_phone || ' ' || status, ',' ORDER BY source_id::bigint), '')
        FROM orders WHERE source = 'shop'
        """);

    private static Task<JsonNode> ShopStateAsync(HttpClient client, Func<JsonNode, bool> done, string what) =>
        Waiting.UntilAsync(async () => await (await client.GetAsync("/api/shop")).ReadJsonAsync(), done, what);

    // The worker-process follower: no recurring jobs, short intervals.
    private static (string, string)[] WorkerSettings(string shop, params (string, string)[] more) =>
    [
        ("Crm__Shop__ConnectionString", shop), ("Crm__Shop__Slot", ShopCluster.NewSlot()), ("Crm__Shop__StatusInterval", "00:00:01"),
        ("Crm__Shop__MaxReconnectDelay", "00:00:02"), ("Crm__Sync__Cron", ""), ("Crm__Sync__PendingCron", ""),
        ("Crm__Sync__RunPruneCron", ""), ("Crm__Categories__RecalculateCron", "0 0 31 2 *"), .. more,
    ];

    [Fact]
    public async Task ATransactionOfManySlicesEndsExactlyAsTheShopsTable()
    {
        var shop = await cluster.CreateShopAsync();
        var (raw, erased) = TestPhones.NewSpelledWith8();
        var (anna, boris) = (TestPhones.New(), TestPhones.New());
        var old = await ShopCluster.InsertOrderAsync(shop, "Стираемый", raw, 1200m);
        for (var i = 0; i < 3; i++)
            await ShopCluster.InsertOrderAsync(shop, "Анна", anna, 100m + i);

        await using var app = new ShopFollowingFactory(shop, ShopCluster.NewSlot(), settings: ("Crm:Shop:StageSliceRows", "3"));
        await app.InitializeAsync();
        var client = app.CreateClient();
        await ShopStateAsync(client, s => (string?)s["state"] == "following", "following");
        await Waiting.UntilAsync(() => client.CustomerByPhoneAsync(erased), c => c is not null, "the erased person's customer");
        var erase = await (await client.PostAsJsonAsync("/api/privacy/erasures", new { phone = raw })).ReadJsonAsync<ErasureAccepted>();
        await client.JobAsync(erase.JobId);
        var before = await ShopStateAsync(client, s => (long)s["ordersApplied"]! == 4, "the snapshot applied");

        // One shop transaction of 74 changes, slices of 3: the same orders updated across
        // slices, deletes, three rejected rows (one of them an update of an order inserted in
        // an earlier slice: that insert stays), a TRUNCATE in the middle (what was staged
        // before it goes), and an erased person's order from before the erase (never stored).
        await ShopCluster.ExecuteAsync(shop, $"""
            BEGIN;
            INSERT INTO orders_order ({Columns})
            SELECT 100 + i, 'Анна', @anna, '', 'Москва', '', i, 'completed', now() - interval '1 hour', now() FROM generate_series(1, 10) AS i;
            UPDATE orders_order SET total_amount = total_amount + 1000 WHERE id > 100;
            UPDATE orders_order SET total_amount = total_amount + 1000, customer_phone = @boris WHERE id BETWEEN 101 AND 105;
            DELETE FROM orders_order WHERE id IN (102, 2);
            INSERT INTO orders_order ({Columns}) VALUES (200, 'Статус', @anna, '', '', '', 10, 'lost', now(), now());
            UPDATE orders_order SET total_amount = 1300 WHERE id = @old;
            TRUNCATE orders_order;
            INSERT INTO orders_order ({Columns})
            SELECT 300 + i, 'Борис', CASE WHEN i % 2 = 0 THEN @anna ELSE @boris END, '', 'Москва', '', i, 'completed',
                   now() - interval '1 hour', now()
            FROM generate_series(1, 20) AS i;
            INSERT INTO orders_order ({Columns}) VALUES (@old, 'Стираемый', @raw, '', '', '', 1200, 'completed', now() - interval '1 hour', now());
            UPDATE orders_order SET total_amount = total_amount + 1 WHERE id BETWEEN 301 AND 310;
            UPDATE orders_order SET total_amount = total_amount + 1, status = 'cancelled' WHERE id BETWEEN 305 AND 312;
            DELETE FROM orders_order WHERE id IN (303, 315);
            INSERT INTO orders_order ({Columns}) VALUES (400, 'Статус', @anna, '', '', '', 10, 'lost', now(), now());
            INSERT INTO orders_order ({Columns})
            SELECT 330 + i, 'Анна', @anna, '', 'Москва', '', i, 'new', now() - interval '1 hour', now() FROM generate_series(1, 4) AS i;
            UPDATE orders_order SET status = 'lost' WHERE id = 320;
            COMMIT;
            """, ("anna", anna), ("boris", boris), ("raw", raw), ("old", old));

        // 35 inserts, 34 updates, 5 deletes (the TRUNCATE is one), counted across the slices.
        var after = await ShopStateAsync(client, s => (long)s["ordersApplied"]! > 4, "the transaction applied");
        Assert.Equal(4 + 35 + 34 + 5, (long)after["ordersApplied"]!);
        Assert.Equal((long)before["rejected"]! + 3, (long)after["rejected"]!);
        // 320 keeps the insert of its earlier slice: the update that followed was rejected.
        var shopSide = await ShopSideAsync(shop, $"id IN ({old}, 400)");
        Assert.Contains($"320 20.00 {anna} lost", shopSide);
        Assert.Equal(shopSide.Replace($"320 20.00 {anna} lost", $"320 20.00 {anna} completed"), await CrmSideAsync(app.ConnectionString));
        Assert.Equal(22, await ScalarAsync<long>(app.ConnectionString, "SELECT count(*) FROM orders WHERE source = 'shop'"));
        Assert.Equal(0, await ScalarAsync<long>(app.ConnectionString, $"SELECT count(*) FROM orders WHERE normalized_phone = '{erased}'"));
        // Each rejection once, with the position of the transaction's commit.
        Assert.Equal("200 320 400", await ScalarAsync<string>(app.ConnectionString,
            "SELECT string_agg(shop_id, ' ' ORDER BY shop_id) FROM shop_rejections"));
        Assert.Equal(1, await ScalarAsync<long>(app.ConnectionString, "SELECT count(DISTINCT lsn) FROM shop_rejections"));
        await Waiting.UntilAsync(() => CustomerAudit.WrongCustomersAsync(app.ConnectionString, DateTime.UtcNow),
            wrong => wrong.Count == 0, "every customer exact");
    }

    [Fact]
    public async Task AFollowerKilledInTheMiddleOfATransactionAppliesItOnceAfterTheReplay()
    {
        var shop = await cluster.CreateShopAsync();
        await using var crm = new RealClockCrmApiFactory();
        await crm.InitializeAsync();
        var settings = WorkerSettings(shop, ("Crm__Shop__StageSliceRows", "100"));

        await using (var first = WorkerProcess.Start(crm.ConnectionString, settings))
        {
            await Waiting.UntilAsync(() => StateAsync(crm.ConnectionString), s => s == "following", "following", ProcessDeadline);
            // 99 990 inserts and 10 rejected rows, then 49 990 updates and the same 10 rejected again.
            await ShopCluster.ExecuteAsync(shop, $"""
                BEGIN;
                INSERT INTO orders_order ({Columns})
                SELECT i, 'Покупатель', '+7999' || lpad((i % 100)::text, 7, '0'), '', 'Москва', '', i % 1000,
                       CASE WHEN i % 10000 = 0 THEN 'lost' ELSE 'completed' END, now() - interval '1 day', now()
                FROM generate_series(1, 100000) AS i;
                UPDATE orders_order SET total_amount = total_amount + 1 WHERE id % 2 = 0;
                COMMIT;
                """);
            // Slices are being staged: the follower's CRM transaction is open, nothing of it committed.
            await Waiting.UntilAsync(() => ScalarAsync<bool>(crm.ConnectionString, """
                SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                               WHERE datname = current_database() AND backend_xid IS NOT NULL AND query LIKE 'COPY shop_incoming%')
                """), staging => staging, "slices staged", ProcessDeadline);
            await first.KillAsync();
        }
        Assert.Equal(0, await AppliedAsync(crm.ConnectionString));
        Assert.Equal(0, await ScalarAsync<long>(crm.ConnectionString, "SELECT count(*) FROM orders"));

        await using var second = WorkerProcess.Start(crm.ConnectionString, settings);
        await Waiting.UntilAsync(() => AppliedAsync(crm.ConnectionString), n => n > 0, "the replayed transaction applied", ProcessDeadline);
        Assert.Equal(99_990 + 49_990, await AppliedAsync(crm.ConnectionString));
        Assert.Equal(10, await ScalarAsync<long>(crm.ConnectionString, "SELECT rejected FROM shop_follower"));
        Assert.Equal(10, await ScalarAsync<long>(crm.ConnectionString, "SELECT count(*) FROM shop_rejections"));
        Assert.Equal(await ShopSideAsync(shop, "status = 'lost'"), await CrmSideAsync(crm.ConnectionString));
    }

    [Fact]
    public async Task AMillionRowTransactionAppliesWithinFiveHundredMegabytes()
    {
        var shop = await cluster.CreateShopAsync();
        await using var crm = new RealClockCrmApiFactory();
        await crm.InitializeAsync();
        await using var worker = WorkerProcess.Start(crm.ConnectionString, WorkerSettings(shop));
        await Waiting.UntilAsync(() => StateAsync(crm.ConnectionString), s => s == "following", "following", ProcessDeadline);

        // A data migration's size: one transaction that writes a million orders of 1 000
        // customers, then updates every one of them (each order changes in two slices).
        await ShopCluster.ExecuteAsync(shop, """
            BEGIN;
            INSERT INTO orders_order (customer_name, customer_phone, customer_email, delivery_city, delivery_address,
                                      total_amount, status, created_at, updated_at)
            SELECT 'Покупатель ' || i, '+7999' || lpad((i % 1000)::text, 7, '0'), 'buyer' || i || '@example.com', 'Москва',
                   'ул. Ленина, ' || i, i % 5000 + 0.5, 'new', now() - interval '1 day', now()
            FROM generate_series(1, 1000000) AS i;
            UPDATE orders_order SET status = 'completed', updated_at = now();
            COMMIT;
            """);

        await Waiting.UntilAsync(() => AppliedAsync(crm.ConnectionString), n => n > 0, "the transaction applied", ProcessDeadline);
        var peak = PeakRssMegabytes(worker.Id);
        output.WriteLine($"The follower's peak RSS: {peak} MB");
        Assert.Equal(2_000_000, await AppliedAsync(crm.ConnectionString));
        Assert.Equal(0, await ScalarAsync<long>(crm.ConnectionString, "SELECT snapshot_rows FROM shop_follower"));
        Assert.Equal(1_000_000, await ScalarAsync<long>(crm.ConnectionString,
            "SELECT count(*) FROM orders WHERE source = 'shop' AND status = 'completed'"));
        Assert.Equal(1_000_000, await ScalarAsync<long>(crm.ConnectionString, "SELECT count(*) FROM orders"));
        Assert.True(peak < 500, $"The follower's peak RSS was {peak} MB.");
    }

    [Fact]
    public void ASliceOfNoRowsFailsTheStartNamingTheSetting()
    {
        var result = new ShopOptionsValidation().Validate(null, new ShopOptions { StageSliceRows = 0 });
        Assert.Equal(["Crm:Shop:StageSliceRows must be a positive number of rows."], result.Failures);
    }

    // VmHWM: the process's peak resident set size since it started.
    private static long PeakRssMegabytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmHWM:"));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
    }
}
