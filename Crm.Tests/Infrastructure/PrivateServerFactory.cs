using Microsoft.AspNetCore.Hosting;

namespace Crm.Tests.Infrastructure;

// The app (role all: API and job servers) on a database of a PrivatePostgres server, with the
// real clock and only the jobs a test starts: for tests that stop, restart or freeze the server.
public sealed class PrivateServerFactory(string connectionString) : CrmApiFactory
{
    public override string ConnectionString => connectionString;

    public override bool UsesFakeClock => false;

    public override Task InitializeAsync() => Task.CompletedTask;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crm:Sync:Cron", "");
        builder.UseSetting("Crm:Sync:PendingCron", "");
        builder.UseSetting("Crm:Sync:RunPruneCron", "");
        builder.UseSetting("Crm:Categories:RecalculateCron", "0 0 31 2 *"); // Hangfire's Cron.Never()
    }

    // The whole server goes away with the test.
    protected override Task DropDatabaseAsync() => Task.CompletedTask;
}
