using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Crm.Api.Reads;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Reliability;

// Reads on a standby (Crm:Database:ReadConnectionString): a real primary and a streaming
// standby of it. Which server answered is seen from outside by what it knows: with the
// standby's replay paused, a customer written since exists on the primary only.
public sealed class ReadReplicaTests(ReadReplicaTests.Servers servers) : IClassFixture<ReadReplicaTests.Servers>
{
    [Fact]
    public async Task ReadsAreServedByTheStandbyAndAReadAfterAWriteByAServerThatHasIt()
    {
        // A lag bound no pause here reaches: only Crm-Read-After moves a read to the primary.
        await using var app = await ReadReplicaFactory.StartAsync(servers.Primary, servers.Standby, TimeSpan.FromHours(1));
        var client = app.CreateClient();
        var before = await CreateAsync(client, "Before");
        Assert.True(NpgsqlTypes.NpgsqlLogSequenceNumber.TryParse(before.Lsn, out var beforeLsn), before.Lsn);
        var replica = app.Services.GetRequiredService<ReadReplica>();
        await Waiting.UntilAsync(() => Task.FromResult(replica.Serves(beforeLsn, DateTime.UtcNow)), serves => serves,
            "the standby to replay the first write");

        await servers.PauseReplayAsync();
        try
        {
            var during = await CreateAsync(client, "During");

            // The standby has not replayed it: a plain read does not find it, a list does not show it.
            Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(client, during.Id));
            Assert.DoesNotContain(during.Id, await IdsListedAsync(client, null));
            Assert.Contains(before.Id, await IdsListedAsync(client, null));

            // The write's own position: the primary answers, the customer is there.
            Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(client, during.Id, during.Lsn));
            Assert.Contains(during.Id, await IdsListedAsync(client, during.Lsn));
            // A position the standby has replayed: it still serves.
            Assert.Equal(HttpStatusCode.NotFound, await StatusOfAsync(client, during.Id, before.Lsn));

            var bad = new HttpRequestMessage(HttpMethod.Get, $"/api/customers/{before.Id}");
            bad.Headers.Add(ReadYourWrites.ReadAfterHeader, "yesterday");
            var refused = await client.SendAsync(bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var problem = await refused.Content.ReadFromJsonAsync<JsonObject>();
            Assert.NotNull(problem!["errors"]![ReadYourWrites.ReadAfterHeader]);
            // Who calls is judged first.
            var anonymous = new HttpRequestMessage(HttpMethod.Get, $"/api/customers/{before.Id}");
            anonymous.Headers.Add(ReadYourWrites.ReadAfterHeader, "yesterday");
            Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient(key: null).SendAsync(anonymous)).StatusCode);
        }
        finally
        {
            await servers.ResumeReplayAsync();
        }

        var metrics = await client.GetStringAsync("/metrics");
        Assert.Matches("crm_reads_total\\{[^}]*server=\"standby\"[^}]*\\} [1-9]", metrics);
        Assert.Matches("crm_reads_total\\{[^}]*server=\"primary\"[^}]*\\} [1-9]", metrics);
    }

    [Fact]
    public async Task ReadsFallBackToThePrimaryWhenTheStandbyLagsOrIsDown()
    {
        await using var app = await ReadReplicaFactory.StartAsync(servers.Primary, servers.Standby, TimeSpan.FromSeconds(1));
        var client = app.CreateClient();
        var replica = app.Services.GetRequiredService<ReadReplica>();
        // Until its first check the watch knows nothing of the standby, and reads go to the primary.
        await Waiting.UntilAsync(() => Task.FromResult(replica.Serves(null, DateTime.UtcNow)), serves => serves,
            "the standby to serve", TimeSpan.FromSeconds(60));

        await servers.PauseReplayAsync();
        try
        {
            // Replay stopped: within about MaxReadLag the standby is too far behind, and the
            // customer written meanwhile is read from the primary without asking for it.
            var written = await CreateAsync(client, "Lagging");
            await Waiting.UntilAsync(() => StatusOfAsync(client, written.Id), s => s == HttpStatusCode.OK,
                "reads to leave a standby that lags", TimeSpan.FromSeconds(30));
            // The watch says so (it logs just after it records the check a request may already use).
            await Waiting.UntilAsync(() => Task.FromResult(app.Logs.AtLeast(Microsoft.Extensions.Logging.LogLevel.Warning)),
                lines => lines.Any(line => line.Contains("Reads go to the primary: the standby is", StringComparison.Ordinal)),
                "the watch to log that reads left the standby", TimeSpan.FromSeconds(30));
        }
        finally
        {
            await servers.ResumeReplayAsync();
        }
        await Waiting.UntilAsync(() => Task.FromResult(replica.Serves(null, DateTime.UtcNow)), serves => serves,
            "the standby to serve again once it caught up", TimeSpan.FromSeconds(30));

        await servers.Standby.StopAsync();
        try
        {
            await Waiting.UntilAsync(() => Task.FromResult(replica.Latest), latest => latest is null,
                "the watch to see the standby gone", TimeSpan.FromSeconds(30));
            var written = await CreateAsync(client, "Standby down");
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(HttpStatusCode.OK, await StatusOfAsync(client, written.Id));
                Assert.Contains(written.Id, await IdsListedAsync(client, null));
            }
        }
        finally
        {
            await servers.Standby.StartAgainAsync();
        }
        await Waiting.UntilAsync(() => Task.FromResult(replica.Serves(null, DateTime.UtcNow)), serves => serves,
            "the standby to serve again once it is back", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task TheDashboardsCardShowsANoteJustAddedThroughItsCookie()
    {
        await using var app = await ReadReplicaFactory.StartAsync(servers.Primary, servers.Standby, TimeSpan.FromHours(1));
        var replica = app.Services.GetRequiredService<ReadReplica>();
        var customer = await CreateAsync(app.CreateClient(), "Card");
        NpgsqlTypes.NpgsqlLogSequenceNumber.TryParse(customer.Lsn, out var lsn);
        await Waiting.UntilAsync(() => Task.FromResult(replica.Serves(lsn, DateTime.UtcNow)), serves => serves,
            "the standby to replay the customer");

        await servers.PauseReplayAsync();
        try
        {
            var operatorClient = Dashboard(app, TestKeys.Operator);
            var card = await operatorClient.GetStringAsync($"/hangfire/customers/{customer.Id}");
            var token = WebUtility.HtmlDecode(Regex.Match(card,
                """<input type="hidden" name="__RequestVerificationToken" value="([^"]+)">""").Groups[1].Value);
            var posted = await operatorClient.PostAsync($"/hangfire/customers/{customer.Id}/notes", new FormUrlEncodedContent(
                [new("note", "Перезвонить в пятницу"), new("__RequestVerificationToken", token)]));
            Assert.Equal(HttpStatusCode.SeeOther, posted.StatusCode);
            Assert.Contains(posted.Headers.GetValues("Set-Cookie"), c => c.StartsWith(ReadYourWrites.DashboardCookie + "=", StringComparison.Ordinal));

            // The page the form leads back to shows the note; another browser, without the
            // cookie, reads the standby, which has not replayed it.
            Assert.Contains("Перезвонить в пятницу", await operatorClient.GetStringAsync($"/hangfire/customers/{customer.Id}"));
            Assert.DoesNotContain("Перезвонить в пятницу",
                await Dashboard(app, TestKeys.Operator).GetStringAsync($"/hangfire/customers/{customer.Id}"));
        }
        finally
        {
            await servers.ResumeReplayAsync();
        }
    }

    [Fact]
    public async Task WithoutAStandbyWritesCarryNoPosition()
    {
        var app = new CrmApiFactory();
        await app.InitializeAsync();
        try
        {
            var response = await app.CreateClient().PostAsJsonAsync("/api/customers", new { name = "Alone", phone = TestPhones.New() });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.False(response.Headers.Contains(ReadYourWrites.LsnHeader));
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }

    // A dashboard client signed in as the key, keeping its cookies, not following redirects.
    private static HttpClient Dashboard(ReadReplicaFactory app, TestKey key)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Remove("X-Api-Key");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key.Name}:{key.Key}")));
        return client;
    }

    private static async Task<(long Id, string Lsn)> CreateAsync(HttpClient client, string name)
    {
        var response = await client.PostAsJsonAsync("/api/customers", new { name, phone = TestPhones.New() });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return ((long)body!["id"]!, response.Headers.GetValues(ReadYourWrites.LsnHeader).Single());
    }

    private static async Task<HttpStatusCode> StatusOfAsync(HttpClient client, long id, string? readAfter = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/customers/{id}");
        if (readAfter is not null)
            request.Headers.Add(ReadYourWrites.ReadAfterHeader, readAfter);
        return (await client.SendAsync(request)).StatusCode;
    }

    private static async Task<List<long>> IdsListedAsync(HttpClient client, string? readAfter)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/customers?pageSize=100");
        if (readAfter is not null)
            request.Headers.Add(ReadYourWrites.ReadAfterHeader, readAfter);
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadFromJsonAsync<JsonObject>();
        return [.. page!["items"]!.AsArray().Select(item => (long)item!["id"]!)];
    }

    // A primary and an asynchronous standby of it, shared by the class's tests (which run one
    // at a time); each test has a database of its own on them.
    public sealed class Servers : IAsyncLifetime
    {
        public PrivatePostgres Primary { get; private set; } = null!;
        public PrivatePostgres Standby { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Primary = await PrivatePostgres.StartAsync();
            Standby = await Primary.StartStandbyAsync();
        }

        public Task PauseReplayAsync() => OnStandbyAsync("SELECT pg_wal_replay_pause()");

        public Task ResumeReplayAsync() => OnStandbyAsync("SELECT pg_wal_replay_resume()");

        private async Task OnStandbyAsync(string sql)
        {
            // Unpooled: a test restarts the standby, which would leave a pooled session stale.
            await using var connection = new NpgsqlConnection(Standby.AdminConnectionString + ";Pooling=false");
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        public async Task DisposeAsync()
        {
            if (Standby is not null)
                await Standby.DisposeAsync();
            if (Primary is not null)
                await Primary.DisposeAsync();
        }
    }
}
