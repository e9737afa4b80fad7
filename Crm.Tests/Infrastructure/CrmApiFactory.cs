using Crm.Jobs.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace Crm.Tests.Infrastructure;

// The real app on its own cloned database. One per test class (IClassFixture).
public class CrmApiFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public string DatabaseName { get; private set; } = "";
    public virtual string ConnectionString => TestDatabase.ConnectionStringFor(DatabaseName);
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));

    protected virtual string EnvironmentName => "Production";

    // Most tests move time themselves; tests about real concurrency need the real clock.
    public virtual bool UsesFakeClock => true;

    public virtual async Task InitializeAsync() => DatabaseName = await TestDatabase.CreateAsync();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        builder.UseSetting("ConnectionStrings:Crm", ConnectionString);
        // Retries come due after seconds in these tests; move them to their queue promptly.
        builder.UseSetting("Crm:Jobs:SchedulePollingInterval", "00:00:01");
        builder.UseSetting("Crm:Jobs:WorkerCount", "4");
        if (UsesFakeClock)
        {
            builder.ConfigureServices(services =>
            {
                services.RemoveAll<TimeProvider>();
                services.AddSingleton<TimeProvider>(Clock);
            });
        }
    }

    // A context on the same database, for arranging data and checking what was written.
    public CrmDbContext CreateDbContext()
    {
        var options = new DbContextOptionsBuilder<CrmDbContext>();
        CrmDbContext.Configure(options, ConnectionString);
        return new CrmDbContext(options.Options);
    }

    protected virtual Task DropDatabaseAsync() => TestDatabase.DropAsync(DatabaseName);

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await DropDatabaseAsync();
    }
}

public sealed class DevelopmentCrmApiFactory : CrmApiFactory
{
    protected override string EnvironmentName => "Development";
}

public sealed class RealClockCrmApiFactory : CrmApiFactory
{
    public override bool UsesFakeClock => false;
}
