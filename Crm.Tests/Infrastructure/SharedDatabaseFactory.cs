using Microsoft.AspNetCore.Hosting;

namespace Crm.Tests.Infrastructure;

// A second app process on another factory's database: scale-out in one test. The owner
// creates and drops the database; this one only borrows it.
public sealed class SharedDatabaseFactory(CrmApiFactory owner, string role = "all") : CrmApiFactory
{
    public override string ConnectionString => owner.ConnectionString;

    public override bool UsesFakeClock => owner.UsesFakeClock;

    public override Task InitializeAsync() => Task.CompletedTask;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crm:Role", role);
    }

    protected override Task DropDatabaseAsync() => Task.CompletedTask;
}
