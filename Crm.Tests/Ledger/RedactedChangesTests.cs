using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Crm.Jobs.Ledger;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Ledger;

// What the ledger's readers make of a change whose personal values were redacted after
// Crm:Ledger:PersonalValueRetentionDays: the change stays listed, marked redacted, its values
// null; a revert leaves such a field alone rather than write NULL into the customer. The API
// role runs no job server: the test runs the jobs itself.
public class RedactedChangesTests(ApiRoleFactory factory) : IClassFixture<ApiRoleFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private DateTime Now => factory.Clock.GetUtcNow().UtcDateTime;

    private async Task<T> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task<long> CustomerAsync(string email, string city)
    {
        var id = await ScalarAsync<long>("""
            INSERT INTO customers (name, phone, email, city, created_at, updated_at)
            VALUES ('Анна Редакция', @phone, @email, @city, @now, @now) RETURNING id
            """, ("phone", TestPhones.New()), ("email", email), ("city", city), ("now", Now));
        return id;
    }

    private Task<long> ForceRunAsync() => ScalarAsync<long>("""
        INSERT INTO sync_runs (mode, status, started_at, finished_at, created_count, updated_count, unchanged_count,
                               skipped_count, error_count, total_customers, duration_ms, dry_run)
        VALUES ('force', 'succeeded', @now, @now, 0, 1, 0, 0, 0, 1, 5, false) RETURNING id
        """, ("now", Now));

    // An update as the force sync `runId` writes it: the ledger names the run.
    private async Task WriteAsRunAsync(long runId, string set, long customerId)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await ChangeLedger.BeginAsync(connection, transaction, "sync:force", runId, null, CancellationToken.None);
        await using var update = new NpgsqlCommand($"UPDATE customers SET {set}, updated_at = @now WHERE id = @id", connection, transaction);
        update.Parameters.AddWithValue("now", Now);
        update.Parameters.AddWithValue("id", customerId);
        Assert.Equal(1, await update.ExecuteNonQueryAsync());
        await transaction.CommitAsync();
    }

    private async Task<LedgerPruneResult> PruneAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<LedgerJobs>().PruneAsync(CancellationToken.None);
    }

    // A customer created, then changed by a force sync (email, city, statistics) in the same
    // instant; 91 days later the personal values are redacted.
    private async Task<(long CustomerId, long RunId)> ARedactedRunAsync()
    {
        var id = await CustomerAsync("old@example.com", "Пермь");
        var run = await ForceRunAsync();
        await WriteAsRunAsync(run, "email = 'new@example.com', city = 'Казань', total_orders = 2, total_spent = 300", id);
        factory.Clock.Advance(TimeSpan.FromDays(91));
        await PruneAsync();
        return (id, run);
    }

    [Fact]
    public async Task ARunsChangesMarkTheRedactedOnesAndKeepTheirMetadata()
    {
        var (id, run) = await ARedactedRunAsync();

        var response = await _client.GetAsync($"/api/sync/runs/{run}/changes");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = (await response.ReadJsonAsync())["items"]!.AsArray().Select(i => i!).ToList();
        Assert.Equal(["email", "city", "statistics"], items.Select(i => (string)i["field"]!));
        foreach (var redacted in items.Take(2))
        {
            Assert.True((bool)redacted["redacted"]!);
            Assert.Null(redacted["from"]);
            Assert.Null(redacted["to"]);
            Assert.Equal(("sync:force", run, id), ((string)redacted["source"]!, (long)redacted["runId"]!, (long)redacted["customerId"]!));
        }
        var statistics = items[2];
        Assert.False((bool)statistics["redacted"]!);
        Assert.Equal((0, 2), ((int)statistics["from"]!["totalOrders"]!, (int)statistics["to"]!["totalOrders"]!));
    }

    [Fact]
    public async Task TheTimelineShowsARedactedChangeAsSuchBesideNewerOnesWithTheirValues()
    {
        var (id, _) = await ARedactedRunAsync();
        Assert.Equal(HttpStatusCode.OK, (await _client.PatchJsonAsync($"/api/customers/{id}", new { city = "Самара" })).StatusCode);

        var timeline = await (await _client.GetAsync($"/api/customers/{id}/timeline")).ReadJsonAsync();

        var items = timeline["items"]!.AsArray().Select(i => i!).ToList();
        Assert.Equal(
            ["city: Казань → Самара", "statistics: 0 orders, 0.00 spent → 2 orders, 300.00 spent", "city: (redacted)", "email: (redacted)", "created: (redacted)"],
            items.Select(i => (string)i["text"]!));
        Assert.Equal([false, false, true, true, true], items.Select(i => (bool)i["redacted"]!));
        var email = items[3];
        Assert.Equal(("change", "email", "sync:force"), ((string)email["kind"]!, (string)email["field"]!, (string)email["source"]!));
        Assert.Null(email["from"]);
        Assert.Null(email["to"]);
        Assert.Equal("created", (string)items[4]["kind"]!);
    }

    [Fact]
    public async Task TheDashboardsChangesPageSaysRedacted()
    {
        var (_, run) = await ARedactedRunAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, $"/hangfire/syncs/{run}/changes");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestKeys.Reader.Name}:{TestKeys.Reader.Key}")));

        var response = await factory.CreateClient(key: null).SendAsync(request);

        response.EnsureSuccessStatusCode();
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(2, html.Split("""<td colspan="2" class="redacted"><em>redacted</em></td>""").Length - 1);
        Assert.Contains("&quot;totalOrders&quot;: 2", html);
    }

    // Customer A's changes are all redacted; customer B's email was changed twice by the run,
    // the first change redacted, the second not (a run that straddles the cutoff). Neither is
    // put back: the value to put back is gone, and the customers keep what they hold.
    [Fact]
    public async Task ARevertLeavesFieldsWhoseChangesWereRedactedAndCountsThem()
    {
        var (a, b) = (await CustomerAsync("a-old@example.com", "Пермь"), await CustomerAsync("b-old@example.com", "Пермь"));
        var run = await ForceRunAsync();
        await WriteAsRunAsync(run, "email = 'a-new@example.com', city = 'Казань'", a);
        await WriteAsRunAsync(run, "email = 'b-mid@example.com'", b);
        factory.Clock.Advance(TimeSpan.FromHours(1));
        await WriteAsRunAsync(run, "email = 'b-new@example.com'", b);
        factory.Clock.Advance(TimeSpan.FromDays(90) - TimeSpan.FromMinutes(30));
        Assert.Equal(0, await ScalarAsync<long>(
            "SELECT count(*) FROM customer_changes WHERE run_id = @run AND old_value IS NULL AND new_value IS NULL", ("run", run)));
        await PruneAsync();
        Assert.Equal(3, await ScalarAsync<long>(
            "SELECT count(*) FROM customer_changes WHERE run_id = @run AND old_value IS NULL AND new_value IS NULL", ("run", run)));

        await using var scope = factory.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<LedgerJobs>().RevertRunAsync(run, CancellationToken.None);

        Assert.Equal(new RevertResult(run, 0, 0, 3), result);
        Assert.Equal("a-new@example.com Казань", await ScalarAsync<string>("SELECT email || ' ' || city FROM customers WHERE id = @id", ("id", a)));
        Assert.Equal("b-new@example.com", await ScalarAsync<string>("SELECT email FROM customers WHERE id = @id", ("id", b)));
        Assert.Equal(0, await ScalarAsync<long>("SELECT count(*) FROM customer_changes WHERE run_id = @run AND source = 'revert'", ("run", run)));
    }
}
