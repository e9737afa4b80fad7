using System.Net;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Host;

public class ReadinessWithoutDatabaseTests : IAsyncLifetime
{
    private readonly UnreachableDatabaseFactory _factory = new();

    private sealed class UnreachableDatabaseFactory : CrmApiFactory
    {
        // A port nothing listens on: the database is "down" from the first request.
        public override string ConnectionString => "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2";

        public override Task InitializeAsync() => Task.CompletedTask;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _factory.DisposeAsync().AsTask();

    [Fact]
    public async Task ReadinessFailsButLivenessStaysUpWhenTheDatabaseIsUnreachable()
    {
        var client = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        await (await client.GetAsync("/api/customers/1")).AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
    }
}
