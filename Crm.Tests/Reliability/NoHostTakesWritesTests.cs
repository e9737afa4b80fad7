using System.Net;
using System.Net.Http.Json;
using Crm.Api.Infrastructure;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Reliability;

// A connection string naming a primary and its standby, neither of which takes a connection
// (the moment of a failover before the standby is promoted): every request is a 503 with
// Retry-After, whether Npgsql has just tried both hosts ("Unable to connect to a suitable
// host") or remembers them as down ("No suitable host was found"), which was a 500.
public sealed class NoHostTakesWritesTests : IAsyncLifetime
{
    private readonly TwoDeadHostsFactory _factory = new();

    private sealed class TwoDeadHostsFactory : CrmApiFactory
    {
        // Ports nothing listens on: both hosts refuse at once.
        public override string ConnectionString =>
            "Host=127.0.0.1:1,127.0.0.1:2;Database=none;Username=none;Password=none;Target Session Attributes=read-write";

        public override Task InitializeAsync() => Task.CompletedTask;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _factory.DisposeAsync().AsTask();

    [Fact]
    public async Task EveryRequestIs503WithRetryAfterWhileNoHostTakesTheConnection()
    {
        var client = _factory.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            foreach (var response in new[]
            {
                await client.PostAsJsonAsync("/api/orders", new { customerPhone = TestPhones.New(), totalAmount = 10, status = "completed" }),
                await client.GetAsync("/api/customers"),
            })
            {
                await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable);
                Assert.Equal(TimeSpan.FromSeconds(ProblemExceptionHandler.RetryAfterSeconds), response.Headers.RetryAfter?.Delta);
            }
        }
    }
}
