using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Host;

public class MigrateCommandTests
{
    [Fact]
    public async Task MigrateCreatesTheSchemaInAnEmptyDatabaseAndExitsZero()
    {
        var database = $"crm_migrate_{Guid.NewGuid():N}";
        await TestDatabase.CreateEmptyAsync(database);
        try
        {
            var connectionString = TestDatabase.ConnectionStringFor(database);
            var (exitCode, output) = await AppProcess.RunAsync(connectionString, TimeSpan.FromMinutes(2), "migrate");
            Assert.True(exitCode == 0, output);

            // Running it again is a no-op that also succeeds.
            var (secondExit, secondOutput) = await AppProcess.RunAsync(connectionString, TimeSpan.FromMinutes(2), "migrate");
            Assert.True(secondExit == 0, secondOutput);

            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('customers', 'orders', 'customer_notes', 'sync_runs')",
                connection);
            Assert.Equal(4L, await command.ExecuteScalarAsync());
        }
        finally
        {
            await TestDatabase.DropAsync(database);
        }
    }

    [Fact]
    public async Task StartingWithoutAConnectionStringFailsWithAClearMessage()
    {
        var (exitCode, output) = await AppProcess.RunAsync("", TimeSpan.FromMinutes(2), "migrate");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("ConnectionStrings__Crm", output);
    }
}
