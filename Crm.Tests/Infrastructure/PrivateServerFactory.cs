using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crm.Tests.Infrastructure;

// The app (role all: API and job servers) on a migrated database of its own PrivatePostgres
// server, with the real clock and only the jobs a test starts: for tests that stop, restart or
// freeze the server. The server goes away with the factory.
public sealed class PrivateServerFactory : CrmApiFactory
{
    private readonly string _connectionString;

    private PrivateServerFactory(PrivatePostgres server, string connectionString)
    {
        Postgres = server;
        _connectionString = connectionString;
    }

    public PrivatePostgres Postgres { get; }

    // The app's log lines (Hangfire's included): a test that fails shows what the app saw.
    public CapturedLogs Logs { get; } = new();

    public override string ConnectionString => _connectionString;

    public override bool UsesFakeClock => false;

    public static async Task<PrivateServerFactory> StartAsync()
    {
        var server = await PrivatePostgres.StartAsync();
        var database = await server.CreateMigratedDatabaseAsync();
        return new PrivateServerFactory(server, server.ConnectionStringFor(database));
    }

    public override Task InitializeAsync() => Task.CompletedTask;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        WithoutRecurringJobs(builder);
        builder.ConfigureServices(services => services.AddLogging(logging => logging.AddProvider(Logs)));
    }

    protected override Task DropDatabaseAsync() => Postgres.DisposeAsync().AsTask();
}
