using System.Net;
using System.Net.Http.Json;
using Crm.Api.Infrastructure;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Reliability;

// A database that refuses writes, as a standby does while a failover is under way (or an old
// primary that came back as one): a write is a 503 with Retry-After — "retry in a moment",
// which a client can tell from a bug — never a 500; reads go on; once the database takes
// writes again, so does the app, without a restart.
public sealed class ReadOnlyDatabaseTests : IAsyncLifetime
{
    private readonly CrmApiFactory _factory = new();

    public Task InitializeAsync() => _factory.InitializeAsync();

    public Task DisposeAsync() => ((IAsyncLifetime)_factory).DisposeAsync();

    [Fact]
    public async Task WritesToAReadOnlyDatabaseAre503WithRetryAfterAndReadsGoOn()
    {
        var client = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.Created,
            (await client.PostAsJsonAsync("/api/customers", new { name = "До", phone = TestPhones.New() })).StatusCode);

        await SetReadOnlyAsync(true);
        try
        {
            var write = await client.PostAsJsonAsync("/api/customers", new { name = "Во время", phone = TestPhones.New() });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, write.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(ProblemExceptionHandler.RetryAfterSeconds), write.Headers.RetryAfter?.Delta);
            Assert.Equal("application/problem+json", write.Content.Headers.ContentType?.MediaType);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/customers")).StatusCode);
        }
        finally
        {
            await SetReadOnlyAsync(false);
        }

        var after = await client.PostAsJsonAsync("/api/customers", new { name = "После", phone = TestPhones.New() });
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
    }

    // New sessions of the test database start read-only (or not); the sessions the app holds
    // are ended and its pools emptied, so the next request opens a new one.
    private async Task SetReadOnlyAsync(bool readOnly)
    {
        // READ WRITE: once the database is read-only, this session starts read-only too.
        await _factory.ExecuteAsync(
            $"BEGIN READ WRITE; ALTER DATABASE \"{_factory.DatabaseName}\" SET default_transaction_read_only = {(readOnly ? "on" : "off")}; COMMIT");
        await _factory.ExecuteAsync(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
        NpgsqlConnection.ClearAllPools();
        _factory.Services.GetRequiredService<NpgsqlDataSource>().Clear();
    }
}
