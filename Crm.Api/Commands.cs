using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api;

// Commands of the same executable: `Crm.Api migrate`.
public static class Commands
{
    public static bool IsCommand(string[] args) => args.Length > 0 && args[0] == "migrate";

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Crm.Commands");
        switch (args[0])
        {
            case "migrate":
                await using (var scope = app.Services.CreateAsyncScope())
                {
                    var db = scope.ServiceProvider.GetRequiredService<CrmDbContext>();
                    var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
                    await CrmDatabase.MigrateAsync(db);
                    logger.LogInformation("Applied {Count} migration(s): {Migrations}", pending.Count, string.Join(", ", pending));
                }
                return 0;
            default:
                logger.LogError("Unknown command {Command}", args[0]);
                return 2;
        }
    }
}
