using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Crm.Tests.Infrastructure;

// The app (role all: API and job servers) on a primary and its synchronous standby, two
// PrivatePostgres clusters named in one connection string with Target Session
// Attributes=read-write, as a deployment that fails over names them
// (docs/RELIABILITY.md#failover); the real clock, only the jobs a test starts, and the
// settings a test adds. Both servers go away with the factory.
public sealed class FailoverPairFactory : CrmApiFactory
{
    private readonly string _database;
    private readonly (string Key, string Value)[] _settings;

    private FailoverPairFactory(PrivatePostgres primary, PrivatePostgres standby, string database, (string Key, string Value)[] settings)
    {
        Primary = primary;
        Standby = standby;
        _database = database;
        _settings = settings;
        DatabaseName = database;
    }

    public PrivatePostgres Primary { get; }

    public PrivatePostgres Standby { get; }

    // The app's log lines (Hangfire's included): a test that fails shows what the app saw.
    public CapturedLogs Logs { get; } = new();

    // Both hosts, the primary first: Npgsql connects to whichever of them takes writes.
    public override string ConnectionString => new NpgsqlConnectionStringBuilder
    {
        Host = $"127.0.0.1:{Primary.Port},127.0.0.1:{Standby.Port}",
        Username = "postgres",
        Password = PrivatePostgres.Password,
        Database = _database,
        TargetSessionAttributes = "read-write",
        IncludeErrorDetail = true,
    }.ConnectionString;

    // The standby alone, for the test's own checks once it is the primary.
    public string StandbyConnectionString => Standby.ConnectionStringFor(_database);

    public override bool UsesFakeClock => false;

    // A migrated database on a new primary, then its standby (a base backup holds the
    // database), then the primary made to wait for the standby's apply at every commit.
    public static async Task<FailoverPairFactory> StartAsync(params (string Key, string Value)[] settings)
    {
        var primary = await PrivatePostgres.StartAsync();
        try
        {
            var database = await primary.CreateMigratedDatabaseAsync();
            var standby = await primary.StartStandbyAsync();
            try
            {
                await primary.MakeSynchronousAsync();
                await WaitUntilSynchronousAsync(primary);
                return new FailoverPairFactory(primary, standby, database, settings);
            }
            catch
            {
                await standby.DisposeAsync();
                throw;
            }
        }
        catch
        {
            await primary.DisposeAsync();
            throw;
        }
    }

    // The reload that makes commits wait is asynchronous: until the primary names its standby
    // `sync`, a commit could be acknowledged before the standby has it.
    private static async Task WaitUntilSynchronousAsync(PrivatePostgres primary)
    {
        await Waiting.UntilAsync(async () =>
        {
            await using var connection = new NpgsqlConnection(primary.AdminConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""
                SELECT current_setting('synchronous_commit') || ' ' ||
                       coalesce((SELECT string_agg(sync_state, ',') FROM pg_stat_replication), 'no standby')
                """, connection);
            return (string)(await command.ExecuteScalarAsync())!;
        }, state => state == "remote_apply sync", "the standby to be synchronous (remote_apply)");
    }

    public override Task InitializeAsync() => Task.CompletedTask;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        WithoutRecurringJobs(builder);
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        builder.ConfigureServices(services => services.AddLogging(logging => logging.AddProvider(Logs)));
    }

    protected override async Task DropDatabaseAsync()
    {
        await Standby.DisposeAsync();
        await Primary.DisposeAsync();
    }
}
