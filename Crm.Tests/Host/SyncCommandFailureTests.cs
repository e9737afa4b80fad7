using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Host;

public class SyncCommandFailureTests
{
    [Theory]
    [InlineData("--bogus")]
    [InlineData("--force-update", "--update-stats-only")]
    [InlineData("--dry-run", "--dry-run")]
    public async Task SyncWithUnknownOrConflictingFlagsExitsTwoWithAUsageLineAndWritesNothing(params string[] flags)
    {
        await using var database = await CommandDatabase.CreateAsync();

        var (exitCode, output) = await AppProcess.RunAsync(database.ConnectionString, CommandDatabase.Timeout, ["sync", .. flags]);

        Assert.True(exitCode == 2, $"exit {exitCode}: {output}");
        Assert.Contains("usage: sync [--force-update | --update-stats-only]", output);
        await using var db = database.CreateDbContext();
        Assert.Equal(0, await db.SyncRuns.CountAsync());
        Assert.Equal(0, await db.Customers.CountAsync());
    }

    [Fact]
    public async Task SyncAgainstAnUnreachableDatabaseExitsOneAndSaysWhy()
    {
        // Nothing listens on port 1: the connection is refused at once.
        const string unreachable = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2";

        var (exitCode, output) = await AppProcess.RunAsync(unreachable, CommandDatabase.Timeout, "sync");

        Assert.True(exitCode == 1, $"exit {exitCode}: {output}");
        Assert.Contains("sync failed: Failed to connect to 127.0.0.1:1", output);
        Assert.DoesNotContain("\"status\"", output);
    }
}
