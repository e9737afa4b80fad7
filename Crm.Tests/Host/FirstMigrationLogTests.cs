using System.Reflection;
using Crm.Jobs.Data;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Crm.Tests.Host;

// `migrate` on a database that has never seen the app, as the first ./run.sh does it: it
// applies every migration and logs nothing at warning level or above, so a newcomer reads
// no "fail:" on a run that works.
public class FirstMigrationLogTests
{
    [Fact]
    public async Task AFirstMigrationLogsNoErrorAndASecondFindsNothingToApply()
    {
        var name = $"crm_migrate_{Guid.NewGuid():N}";
        await TestDatabase.CreateEmptyAsync(name);
        try
        {
            var connectionString = TestDatabase.ConnectionStringFor(name);

            var first = await AppProcess.RunAsync(connectionString, TimeSpan.FromMinutes(3), "migrate");

            Assert.True(first.ExitCode == 0, first.Output);
            var migrations = typeof(CrmDbContext).Assembly.GetTypes().Count(t => t.GetCustomAttribute<MigrationAttribute>() is not null);
            Assert.Contains($"Applied {migrations} migration(s)", first.Output);
            // Production logs one JSON object a line: none may be a warning or an error.
            Assert.DoesNotContain("\"LogLevel\":\"Error\"", first.Output);
            Assert.DoesNotContain("\"LogLevel\":\"Warning\"", first.Output);

            var second = await AppProcess.RunAsync(connectionString, TimeSpan.FromMinutes(3), "migrate");

            Assert.True(second.ExitCode == 0, second.Output);
            Assert.Contains("Applied 0 migration(s)", second.Output);
            Assert.DoesNotContain("\"LogLevel\":\"Error\"", second.Output);
        }
        finally
        {
            await TestDatabase.DropAsync(name);
        }
    }
}
