using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crm.Tests.Infrastructure;

// The app (role all) on a migrated database of a private primary, its reads sent to the same
// database on a streaming standby of that primary (Crm:Database:ReadConnectionString), with the
// real clock. The servers belong to the caller; the database stays on them.
public sealed class ReadReplicaFactory(PrivatePostgres primary, PrivatePostgres standby, string database, TimeSpan maxReadLag)
    : CrmApiFactory
{
    public CapturedLogs Logs { get; } = new();

    public override string ConnectionString => primary.ConnectionStringFor(database);

    public override bool UsesFakeClock => false;

    public static async Task<ReadReplicaFactory> StartAsync(PrivatePostgres primary, PrivatePostgres standby, TimeSpan maxReadLag)
    {
        var database = await primary.CreateMigratedDatabaseAsync();
        return new ReadReplicaFactory(primary, standby, database, maxReadLag);
    }

    public override Task InitializeAsync() => Task.CompletedTask;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        WithoutRecurringJobs(builder);
        builder.UseSetting("Crm:Database:ReadConnectionString", standby.ConnectionStringFor(database));
        builder.UseSetting("Crm:Database:MaxReadLag", maxReadLag.ToString("c"));
        builder.ConfigureServices(services => services.AddLogging(logging => logging.AddProvider(Logs)));
    }

    protected override Task DropDatabaseAsync() => Task.CompletedTask;
}
