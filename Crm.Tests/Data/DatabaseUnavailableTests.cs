using Crm.Jobs.Data;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Data;

// What Npgsql throws for a multi-host connection string (a primary and its standby) with no
// host to take the connection: the API's 503 + Retry-After and a job's "unavailable" are made
// of these real exceptions, not of lookalikes. A host that refuses the password stays an error.
public class DatabaseUnavailableTests
{
    // Ports nothing listens on: the connection is refused at once.
    private const string TwoDeadHosts = "Host=127.0.0.1:1,127.0.0.1:2;Username=none;Password=none;Database=none;Timeout=5";

    [Fact]
    public async Task EveryHostRefusingIsUnavailableOnTheFirstTryAndWhileNpgsqlRemembersIt()
    {
        await using var dataSource = NpgsqlDataSource.Create(TwoDeadHosts);

        // Both hosts tried: one failure each, gathered.
        var tried = await Assert.ThrowsAsync<NpgsqlException>(() => OpenAsync(dataSource));
        Assert.IsType<AggregateException>(tried.InnerException);
        Assert.False(tried.IsTransient);
        Assert.True(DatabaseUnavailable.Is(tried), tried.ToString());

        // Within Host Recheck Seconds both are known to be down: none is tried.
        var remembered = await Assert.ThrowsAsync<NpgsqlException>(() => OpenAsync(dataSource));
        Assert.Equal(DatabaseUnavailable.NoSuitableHost, remembered.Message);
        Assert.Null(remembered.InnerException);
        Assert.True(DatabaseUnavailable.Is(remembered), remembered.ToString());
        Assert.Equal("The database is unavailable", FailureText.Of(remembered));
        // As EF Core and Hangfire's client hand it on.
        Assert.True(DatabaseUnavailable.IsAnywhereIn(new InvalidOperationException("wrapped", remembered)));
    }

    [Fact]
    public async Task AHostRefusingThePasswordBesideADeadOneIsNotUnavailable()
    {
        var live = new NpgsqlConnectionStringBuilder(TestDatabase.AdminConnectionString);
        var connectionString = new NpgsqlConnectionStringBuilder(TestDatabase.AdminConnectionString)
        {
            Host = $"127.0.0.1:1,{live.Host}:{live.Port}",
            Password = "not-the-password",
        }.ConnectionString;
        await using var dataSource = NpgsqlDataSource.Create(connectionString);

        var failed = await Assert.ThrowsAsync<NpgsqlException>(() => OpenAsync(dataSource));
        var hosts = Assert.IsType<AggregateException>(failed.InnerException);
        Assert.Contains(hosts.InnerExceptions, e => e is PostgresException { SqlState: PostgresErrorCodes.InvalidPassword });
        Assert.False(DatabaseUnavailable.Is(failed), failed.ToString());
        Assert.False(DatabaseUnavailable.IsAnywhereIn(new InvalidOperationException("wrapped", failed)));
    }

    private static async Task OpenAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
    }
}
