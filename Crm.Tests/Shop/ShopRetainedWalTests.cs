using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Crm.Api.Shop;
using Crm.Jobs.Shop;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Tests.Shop;

// The shop's disk: the WAL our slot keeps, measured from its restart_lsn in every state of the
// follower (a failed one keeps its slot), reported by GET /api/shop, the dashboard and
// readiness — Unhealthy past Crm:Shop:MaxRetainedWal, Degraded while the shop's
// max_slot_wal_keep_size is unlimited. Its own cluster: one test changes a server setting.
public class ShopRetainedWalTests(ShopCluster cluster) : IClassFixture<ShopCluster>
{
    private const long MiB = 1024 * 1024;

    private sealed class Factory(string shop, string slot, string maxRetainedWal) : ShopFollowingFactory(shop, slot)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:Shop:MaxRetainedWal", maxRetainedWal);
        }
    }

    private static async Task<(Factory App, HttpClient Client)> FollowAsync(string shop, string maxRetainedWal = "10GB")
    {
        var app = new Factory(shop, ShopCluster.NewSlot(), maxRetainedWal);
        await app.InitializeAsync();
        var client = app.CreateClient();
        await ShopAsync(client, s => s.State == ShopFollowerStatus.Following, "following");
        return (app, client);
    }

    private static Task<ShopResponse> ShopAsync(HttpClient client, Func<ShopResponse, bool> done, string what) =>
        Waiting.UntilAsync(async () => await (await client.GetAsync("/api/shop")).ReadJsonAsync<ShopResponse>(), done, what);

    private static Task<JsonNode> ReadinessAsync(HttpClient client, Func<JsonNode, bool> done, string what) =>
        Waiting.UntilAsync(async () => await (await client.GetAsync("/health/ready")).ReadJsonAsync(), done, what);

    private static string ShopCheck(JsonNode ready) => (string)ready["checks"]!["shop"]!["status"]!;

    // A mapped column dropped, then a row written: the follower stops for good (its slot stays).
    private static async Task BreakAsync(string shop, HttpClient client)
    {
        await ShopCluster.ExecuteAsync(shop, "ALTER TABLE orders_order DROP COLUMN delivery_city");
        await ShopCluster.ExecuteAsync(shop, """
            INSERT INTO orders_order (customer_name, customer_phone, customer_email, delivery_address, total_amount, status, created_at, updated_at)
            VALUES ('Без города', '+79990000000', '', '', 5, 'completed', now(), now())
            """);
        await ShopAsync(client, s => s.State == ShopFollowerStatus.Failed, "failed");
    }

    // WAL written by the shop's other tables; returns how much (the server's own count).
    private static async Task<long> WriteWalAsync(string shop, int rows)
    {
        await using var connection = new NpgsqlConnection(shop);
        await connection.OpenAsync();
        var before = await LsnAsync(connection);
        await using (var command = new NpgsqlCommand(
            $"CREATE TABLE filler_{Guid.NewGuid():N} AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, {rows}) g", connection))
            await command.ExecuteNonQueryAsync();
        await using var diff = new NpgsqlCommand($"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{before}')::bigint", connection);
        return (long)(await diff.ExecuteScalarAsync())!;
    }

    private static async Task<string> LsnAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task AFailedFollowersSlotKeepsGrowingAndGetApiShopSaysHowMuch()
    {
        var shop = await cluster.CreateShopAsync();
        var (app, client) = await FollowAsync(shop);
        await using var _ = app;
        await BreakAsync(shop, client);
        var measured = await ShopAsync(client, s => s.RetainedWalBytes is not null && s.WalMeasuredAt is not null, "the retained WAL measured");

        var written = await WriteWalAsync(shop, 20_000);
        Assert.True(written > MiB, $"{written} bytes of WAL written");
        var grown = await ShopAsync(client, s => s.RetainedWalBytes >= measured.RetainedWalBytes + written,
            "the retained WAL grown by what the shop wrote");

        Assert.Equal(ShopFollowerStatus.Failed, grown.State);
        Assert.True(grown.WalMeasuredAt > measured.WalMeasuredAt);
        Assert.Equal(-1, grown.MaxSlotWalKeepSize);
        Assert.Null(grown.SafeWalBytes);
        Assert.Equal("reserved", grown.WalStatus);
    }

    [Fact]
    public async Task PastMaxRetainedWalReadinessIsUnhealthy()
    {
        var shop = await cluster.CreateShopAsync();
        var (app, client) = await FollowAsync(shop, maxRetainedWal: "2MB");
        await using var _ = app;
        await BreakAsync(shop, client);
        await WriteWalAsync(shop, 20_000);

        var ready = await ReadinessAsync(client, r => ShopCheck(r) == "Unhealthy", "shop Unhealthy");
        Assert.Equal("Unhealthy", (string)ready["status"]!);
        Assert.Contains("Crm:Shop:MaxRetainedWal 2MB", (string)ready["checks"]!["shop"]!["description"]!);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
        var state = await ShopAsync(client, s => s.RetainedWalBytes > 2 * MiB, "past 2 MB");
        Assert.Contains(state.Warnings, w => w.Contains("more than Crm:Shop:MaxRetainedWal (2MB)"));
    }

    [Fact]
    public async Task AnUnlimitedMaxSlotWalKeepSizeIsWarnedUntilTheShopSetsOne()
    {
        var shop = await cluster.CreateShopAsync();
        var (app, client) = await FollowAsync(shop);
        await using var _ = app;
        try
        {
            var unlimited = await ShopAsync(client, s => s.MaxSlotWalKeepSize is not null, "the shop's limit measured");
            Assert.Equal(-1, unlimited.MaxSlotWalKeepSize);
            Assert.Contains(unlimited.Warnings, w => w.Contains("max_slot_wal_keep_size = -1 (unlimited)"));
            await ReadinessAsync(client, r => ShopCheck(r) == "Degraded", "shop Degraded");
            Assert.Contains("max_slot_wal_keep_size = -1 (unlimited)", await SyncsPageAsync(app));

            await ShopCluster.ExecuteAsync(cluster.Server.AdminConnectionString, "ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'");
            await ShopCluster.ExecuteAsync(cluster.Server.AdminConnectionString, "SELECT pg_reload_conf()");

            var limited = await ShopAsync(client, s => s.MaxSlotWalKeepSize == 1024 * MiB, "the shop's new limit measured");
            Assert.Empty(limited.Warnings);
            Assert.NotNull(limited.SafeWalBytes);
            await ReadinessAsync(client, r => ShopCheck(r) == "Healthy", "shop Healthy");
            Assert.DoesNotContain("shop-wal-warnings", await SyncsPageAsync(app));
        }
        finally
        {
            await ShopCluster.ExecuteAsync(cluster.Server.AdminConnectionString, "ALTER SYSTEM RESET max_slot_wal_keep_size");
            await ShopCluster.ExecuteAsync(cluster.Server.AdminConnectionString, "SELECT pg_reload_conf()");
        }
    }

    [Fact]
    public async Task AMaxRetainedWalThatIsNoSizeFailsTheStart()
    {
        await using var app = new Factory("Host=localhost;Database=shop", ShopCluster.NewSlot(), "lots");
        await app.InitializeAsync();
        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());
        Assert.Contains("Crm:Shop:MaxRetainedWal 'lots' must be a positive size", error.Message);
    }

    [Theory]
    [InlineData("10GB", 10L << 30)]
    [InlineData("512 mb", 512L << 20)]
    [InlineData("64kB", 64L << 10)]
    [InlineData("1048576", 1048576L)]
    [InlineData("1.5GB", null)]
    [InlineData("10 XB", null)]
    [InlineData("99999999999TB", null)]
    public void SizesAreReadAsPostgreSqlWritesThem(string text, long? bytes) => Assert.Equal(bytes, ByteSize.Parse(text));

    private static async Task<string> SyncsPageAsync(CrmApiFactory app)
    {
        var page = new HttpRequestMessage(HttpMethod.Get, "/hangfire/syncs");
        page.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestKeys.Admin.Name}:{TestKeys.Admin.Key}")));
        return await (await app.CreateClient(key: null).SendAsync(page)).Content.ReadAsStringAsync();
    }
}
