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
    public string DatabaseName { get; protected set; } = "";
    public virtual string ConnectionString => TestDatabase.ConnectionStringFor(DatabaseName);
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));

    protected virtual string EnvironmentName => "Production";

    // Tests send far more than a person would; the limiter has tests of its own.
    protected virtual int PermitsPerMinute => 1_000_000;

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.DefaultRequestHeaders.Add("X-Api-Key", TestKeys.Admin.Key);
    }

    // A client with another key, or none (null).
    public HttpClient CreateClient(TestKey? key)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Remove("X-Api-Key");
        if (key is not null)
            client.DefaultRequestHeaders.Add("X-Api-Key", key.Key);
        return client;
    }

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
        // Each idle Hangfire worker holds a connection (long polling): the suite runs many
        // hosts on one server, so the webhooks queue gets two.
        builder.UseSetting("Crm:Webhooks:WorkerCount", "2");
        // Several hosts share this process, and Hangfire.PostgreSql's in-process wake-up of a
        // queue's workers is process-wide: it may wake another host's worker. LISTEN/NOTIFY
        // stays within each test's database. (JobWakeUpTests runs role `all` as shipped.)
        builder.UseSetting("Crm:Jobs:EnableLongPolling", "true");
        // Real keys, as in Production; clients send the admin key unless a test says otherwise.
        foreach (var (key, index) in TestKeys.All.Select((k, i) => (k, i)))
        {
            builder.UseSetting($"Crm:Auth:ApiKeys:{index}:Name", key.Name);
            builder.UseSetting($"Crm:Auth:ApiKeys:{index}:Key", key.Key);
            builder.UseSetting($"Crm:Auth:ApiKeys:{index}:Roles", key.Roles);
        }
        builder.UseSetting("Crm:Privacy:HashKey", TestKeys.PrivacyHashKey);
        builder.UseSetting("Crm:RateLimit:PermitsPerMinute", PermitsPerMinute.ToString());
        if (UsesFakeClock)
        {
            builder.ConfigureServices(services =>
            {
                services.RemoveAll<TimeProvider>();
                services.AddSingleton<TimeProvider>(Clock);
            });
        }
    }

    // No recurring job runs (the sync crons off, the recalculation never): only the jobs a test starts.
    protected static void WithoutRecurringJobs(IWebHostBuilder builder)
    {
        builder.UseSetting("Crm:Sync:Cron", "");
        builder.UseSetting("Crm:Sync:PendingCron", "");
        builder.UseSetting("Crm:Sync:RunPruneCron", "");
        builder.UseSetting("Crm:Categories:RecalculateCron", "0 0 31 2 *"); // Hangfire's Cron.Never()
    }

    // A context on the same database, for arranging data and checking what was written.
    public CrmDbContext CreateDbContext()
    {
        var options = new DbContextOptionsBuilder<CrmDbContext>();
        CrmDbContext.Configure(options, ConnectionString);
        return new CrmDbContext(options.Options);
    }

    // A statement straight against the database (rows written around the API, checks).
    public async Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var dataSource = Npgsql.NpgsqlDataSource.Create(ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync();
    }

    protected virtual Task DropDatabaseAsync() => TestDatabase.DropAsync(DatabaseName);

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        await DropDatabaseAsync();
    }
}
