using System.Text;
using System.Text.Json;
using Crm.Jobs.Data;
using Crm.Jobs.Demo;
using Crm.Jobs.Orders;
using Crm.Jobs.Shop;
using Crm.Jobs.Sync;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Api;

// Commands of the same executable:
//   migrate                                      apply the schema (EF Core migrations and Hangfire's tables) and
//                                                grant Crm:Database:AppRole its rows (docs/SECURITY.md#database-roles)
//   sync [--force-update] [--update-stats-only] [--dry-run]
//                                                run a full sync now, in this process; print the counts as JSON
//                                                (--dry-run: run it and roll it back; print its changes too)
//   seed-demo [--orders N]                       load N realistic Russian demo orders (default 2000) and sync them
//   shop-unfollow                                drop the shop's replication slot (and the publication if ours)
public static class Commands
{
    private static readonly string[] Names = ["migrate", "sync", "seed-demo", "shop-unfollow"];

    private static readonly JsonSerializerOptions Output = new(CrmJson.Options) { WriteIndented = true };

    public static bool IsCommand(string[] args) => args.Length > 0 && Names.Contains(args[0]);

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Crm.Commands");
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        try
        {
            return args[0] switch
            {
                "migrate" => await MigrateAsync(services.GetRequiredService<CrmDbContext>(), services.GetRequiredService<DatabaseOptions>(), logger),
                "sync" => await SyncAsync(services.GetRequiredService<SyncEngine>(), args[1..]),
                "shop-unfollow" => await ShopUnfollowAsync(services, app.Configuration),
                _ => await SeedDemoAsync(services, args[1..]),
            };
        }
        catch (Exception e)
        {
            logger.LogError(e, "Command {Command} failed", args[0]);
            await Console.Error.WriteLineAsync($"{args[0]} failed: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> MigrateAsync(CrmDbContext db, DatabaseOptions roles, ILogger logger)
    {
        var pending = await CrmDatabase.PendingMigrationsAsync(db);
        await CrmDatabase.MigrateAsync(db, roles);
        logger.LogInformation("Applied {Count} migration(s): {Migrations}", pending.Count, string.Join(", ", pending));
        return 0;
    }

    // The Django CRM's `manage.py sync_crm`, with its flags (docs/FROM-DJANGO.md).
    private static async Task<int> SyncAsync(SyncEngine engine, string[] flags)
    {
        var dryRun = flags.Contains("--dry-run");
        var modeFlags = flags.Where(f => f != "--dry-run").ToList();
        var unknown = modeFlags.Except(["--force-update", "--update-stats-only"]).ToList();
        if (unknown.Count > 0 || modeFlags.Count > 1 || flags.Count(f => f == "--dry-run") > 1)
        {
            await Console.Error.WriteLineAsync("usage: sync [--force-update | --update-stats-only] [--dry-run]");
            return 2;
        }
        var mode = modeFlags.FirstOrDefault() switch
        {
            "--force-update" => SyncMode.Force,
            "--update-stats-only" => SyncMode.StatsOnly,
            _ => SyncMode.Default,
        };
        if (dryRun)
        {
            var result = await engine.DryRunAsync(mode, jobId: null, CancellationToken.None);
            // Under `counts`, as a real run prints them: the same jq path reads both.
            Console.WriteLine(JsonSerializer.Serialize(new { status = "success", mode, dryRun = true, counts = result }, Output));
            return 0;
        }
        var counts = await engine.RunAsync(mode, new SyncScope.All(), jobId: null, CancellationToken.None);
        Console.WriteLine(JsonSerializer.Serialize(new { status = "success", mode, counts }, Output));
        return 0;
    }

    // Stops following for good: the slot goes (so the shop's database keeps no more WAL for
    // us), the publication too if the follower created it, and the follower's row, so a
    // later start copies the table afresh. Refused while a follower runs against this CRM.
    private static async Task<int> ShopUnfollowAsync(IServiceProvider services, IConfiguration configuration)
    {
        var options = services.GetRequiredService<IOptions<ShopOptions>>().Value;
        if (!options.Enabled)
        {
            await Console.Error.WriteLineAsync("shop-unfollow: Crm:Shop:ConnectionString is not set; it names the shop's database.");
            return 2;
        }
        await using var lockSource = SessionLocks.CreateDataSource(configuration.GetConnectionString("Crm")!);
        await using var crm = await SessionLocks.TryOpenHolderAsync(lockSource, AdvisoryLockKeys.ShopFollower, CancellationToken.None);
        if (crm is null)
        {
            await Console.Error.WriteLineAsync(
                "shop-unfollow: a follower is running; remove Crm:Shop:ConnectionString from every process with job servers first.");
            return 1;
        }
        await using var read = new NpgsqlCommand("SELECT publication_created FROM shop_follower WHERE id = 1", crm);
        var publicationCreated = await read.ExecuteScalarAsync() is true;

        await using var shop = ShopDatabase.CreateConnection(options);
        await shop.OpenAsync();
        var (slotDropped, publicationDropped) = await ShopDatabase.UnfollowAsync(shop, options, publicationCreated, CancellationToken.None);
        await using (var forget = new NpgsqlCommand("DELETE FROM shop_follower", crm))
            await forget.ExecuteNonQueryAsync();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            status = "success", slot = options.Slot, slotDropped, publication = options.Publication, publicationDropped,
        }, Output));
        return 0;
    }

    private static async Task<int> SeedDemoAsync(IServiceProvider services, string[] options)
    {
        var count = 2000;
        if (options.Length > 0 && !(options is ["--orders", var text] && int.TryParse(text, out count) && count is > 0 and <= 10_000_000))
        {
            await Console.Error.WriteLineAsync("usage: seed-demo [--orders N]   (1 ≤ N ≤ 10000000)");
            return 2;
        }

        // Through the real import path: NDJSON lines streamed into binary COPY.
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var body = new MemoryStream();
        await using (var writer = new StreamWriter(body, new UTF8Encoding(false), leaveOpen: true))
        {
            foreach (var order in DemoOrders.Generate(count, now))
                await writer.WriteLineAsync(JsonSerializer.Serialize(order, CrmJson.Options));
        }
        body.Position = 0;
        var imported = await services.GetRequiredService<OrderImporter>().ImportAsync(body, ImportFormat.Ndjson, CancellationToken.None);
        // The import recorded a sync request per customer; the same run an import's job does.
        var counts = await services.GetRequiredService<SyncEngine>()
            .RunAsync(SyncMode.Auto, new SyncScope.Pending(), jobId: null, CancellationToken.None);
        Console.WriteLine(JsonSerializer.Serialize(new { imported.Imported, imported.Rejected, sync = counts }, Output));
        return 0;
    }
}
