using System.Net;
using System.Net.Http.Json;
using Crm.Jobs.Ledger;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Ledger;

// Undoing a force sync: its contact changes go back where nobody changed the field since.
public class RevertTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private Task AddOrderDirectlyAsync(string phone, string name, string email, string city, DateTime at) =>
        factory.ExecuteAsync("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                total_amount, status, created_at, updated_at)
            VALUES (@name, @phone, @phone, @email, @city, 100, 'completed', @at, @at)
            """, ("phone", phone), ("name", name), ("email", email), ("city", city), ("at", at));

    [Fact]
    public async Task ARevertPutsBackWhatTheRunChangedAndKeepsALaterEdit()
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        var (edited, untouched) = (TestPhones.New(), TestPhones.New());
        foreach (var phone in new[] { edited, untouched })
            await AddOrderDirectlyAsync(phone, "Старое Имя", "old@example.com", "Москва", now.AddDays(-2));
        await _client.FullSyncRunAsync("default");

        // The shop's newer orders carry other contact data; a force sync takes it over.
        foreach (var phone in new[] { edited, untouched })
            await AddOrderDirectlyAsync(phone, "Новое Имя", "new@example.com", "Казань", now.AddDays(-1));
        var run = await _client.FullSyncRunAsync("force");
        var editedId = (long)(await _client.CustomerByPhoneAsync(edited))!["id"]!;
        Assert.Equal("new@example.com", (string)(await _client.CustomerByPhoneAsync(edited))!["email"]!);

        // An operator then corrects one customer's email by hand.
        Assert.Equal(HttpStatusCode.OK,
            (await _client.PatchJsonAsync($"/api/customers/{editedId}", new { email = "operator@example.com" })).StatusCode);

        var accepted = await _client.PostAsync($"/api/sync/runs/{run}/revert", null);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var result = (await _client.JobAsync((string)(await accepted.ReadJsonAsync())["jobId"]!))["result"]!;

        // Six field changes (name, email, city of two customers): five put back, the edited email kept.
        Assert.Equal((5, 1), ((int)result["revertedCount"]!, (int)result["skippedCount"]!));
        var e = (await _client.CustomerByPhoneAsync(edited))!;
        Assert.Equal(("Старое Имя", "operator@example.com", "Москва"), ((string)e["name"]!, (string)e["email"]!, (string)e["city"]!));
        var u = (await _client.CustomerByPhoneAsync(untouched))!;
        Assert.Equal(("Старое Имя", "old@example.com", "Москва"), ((string)u["name"]!, (string)u["email"]!, (string)u["city"]!));
        // Statistics stay what the orders say.
        Assert.Equal(2, (int)u["totalOrders"]!);

        var runs = await (await _client.GetAsync("/api/sync/runs?pageSize=200")).ReadJsonAsync();
        var reverted = runs["items"]!.AsArray().First(r => (long)r!["id"]! == run)!;
        Assert.NotNull(reverted["revertedAt"]);
        Assert.NotNull(reverted["revertJobId"]);
        var changes = await (await _client.GetAsync($"/api/sync/runs/{run}/changes?field=email&pageSize=200")).ReadJsonAsync();
        Assert.Equal(["sync:force", "sync:force", "revert"], changes["items"]!.AsArray().Select(c => (string)c!["source"]!));
    }

    [Fact]
    public async Task PruningDropsChangesOlderThanTheRetention()
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await factory.ExecuteAsync("""
            INSERT INTO customer_changes (customer_id, field, old_value, new_value, changed_at, source)
            VALUES (-1, 'category', '"new"', '"regular"', @old, 'sql'), (-1, 'category', '"regular"', '"vip"', @recent, 'sql')
            """, ("old", now.AddDays(-401)), ("recent", now.AddDays(-399)));

        await using var scope = factory.Services.CreateAsyncScope();
        var pruned = await scope.ServiceProvider.GetRequiredService<LedgerJobs>().PruneAsync(CancellationToken.None);

        Assert.Equal(1, pruned.PrunedCount);
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var left = dataSource.CreateCommand("SELECT string_agg(new_value::text, ',') FROM customer_changes WHERE customer_id = -1");
        Assert.Equal("\"vip\"", (string)(await left.ExecuteScalarAsync())!);
    }
}
