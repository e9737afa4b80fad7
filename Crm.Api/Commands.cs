using System.Text;
using System.Text.Json;
using Crm.Jobs.Data;
using Crm.Jobs.Demo;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api;

// Commands of the same executable:
//   migrate                                      apply the schema (EF Core migrations and Hangfire's tables)
//   sync [--force-update] [--update-stats-only]  run a full sync now, in this process; print the counts as JSON
//   seed-demo [--orders N]                       load N realistic Russian demo orders (default 2000) and sync them
public static class Commands
{
    private static readonly string[] Names = ["migrate", "sync", "seed-demo"];

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
                "migrate" => await MigrateAsync(services.GetRequiredService<CrmDbContext>(), logger),
                "sync" => await SyncAsync(services.GetRequiredService<SyncEngine>(), args[1..]),
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

    private static async Task<int> MigrateAsync(CrmDbContext db, ILogger logger)
    {
        var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
        await CrmDatabase.MigrateAsync(db);
        logger.LogInformation("Applied {Count} migration(s): {Migrations}", pending.Count, string.Join(", ", pending));
        return 0;
    }

    // The seed's `manage.py sync_crm`, with its flags.
    private static async Task<int> SyncAsync(SyncEngine engine, string[] flags)
    {
        var unknown = flags.Except(["--force-update", "--update-stats-only"]).ToList();
        if (unknown.Count > 0 || flags.Distinct().Count() > 1)
        {
            await Console.Error.WriteLineAsync("usage: sync [--force-update | --update-stats-only]");
            return 2;
        }
        var mode = flags.FirstOrDefault() switch
        {
            "--force-update" => SyncMode.Force,
            "--update-stats-only" => SyncMode.StatsOnly,
            _ => SyncMode.Default,
        };
        var counts = await engine.RunAsync(mode, new SyncScope.All(), jobId: null, CancellationToken.None);
        Console.WriteLine(JsonSerializer.Serialize(new { status = "success", mode, counts }, Output));
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
