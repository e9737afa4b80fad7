using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Ledger;

// Every way the service changes a customer leaves its ledger rows, named by their source.
// The rows come from triggers on customers (migration ChangeLedger), so a new write path
// is covered without code of its own; this test walks every path there is today.
public class LedgerWritePathsTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private sealed record Change(long CustomerId, string Field, string? From, string? To, string Source, long? RunId, string? Reason);

    private async Task<List<Change>> ChangesAsync(long customerId)
    {
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = dataSource.CreateCommand("""
            SELECT customer_id, field, old_value::text, new_value::text, source, run_id, reason::text
            FROM customer_changes WHERE customer_id = @id ORDER BY id
            """);
        command.Parameters.AddWithValue("id", customerId);
        var changes = new List<Change>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            changes.Add(new Change(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetInt64(5),
                reader.IsDBNull(6) ? null : reader.GetString(6)));
        }
        return changes;
    }

    // An order written around the API: only a full or per-customer sync sees it.
    private Task AddOrderDirectlyAsync(string phone, decimal amount, string email = "", string status = "completed") =>
        factory.ExecuteAsync("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, total_amount, status, created_at, updated_at)
            VALUES ('Прямой Заказ', @phone, @phone, @email, @amount, @status, @now, @now)
            """, ("phone", phone), ("email", email), ("amount", amount), ("status", status), ("now", factory.Clock.GetUtcNow().UtcDateTime));

    [Fact]
    public async Task EveryWritePathLeavesLedgerRowsNamedByItsSource()
    {
        const string api = "api:test-admin";

        // 1. POST /api/customers.
        var phone = TestPhones.New();
        var created = await (await _client.PostAsJsonAsync("/api/customers", new { name = "Журнал Тест", phone })).ReadJsonAsync();
        var id = (long)created["id"]!;
        Assert.Contains(await ChangesAsync(id), c => c is { Field: "created", Source: api, RunId: null });

        // 2. PATCH without If-Match, 3. PUT with If-Match.
        Assert.Equal(HttpStatusCode.OK, (await _client.PatchJsonAsync($"/api/customers/{id}", new { email = "log@example.com" })).StatusCode);
        var current = await _client.GetAsync($"/api/customers/{id}");
        using (var put = new HttpRequestMessage(HttpMethod.Put, $"/api/customers/{id}")
        {
            Content = JsonContent.Create(new { name = "Журнал Тест", phone, email = "log@example.com", city = "Тверь" }),
        })
        {
            put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
            Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(put)).StatusCode);
        }
        var changes = await ChangesAsync(id);
        Assert.Contains(changes, c => c is { Field: "email", From: "\"\"", To: "\"log@example.com\"", Source: api });
        Assert.Contains(changes, c => c is { Field: "city", From: "\"\"", To: "\"Тверь\"", Source: api });

        // 4. POST /api/orders: the shared pending-writes sync (auto).
        var order = await (await _client.PostAsJsonAsync("/api/orders",
            new { customerName = "Журнал Тест", customerPhone = phone, totalAmount = 500, status = "completed" })).ReadJsonAsync();
        var autoJob = (string)order["syncJobId"]!;
        await _client.JobAsync(autoJob);
        Assert.Contains(await ChangesAsync(id), c => c is { Field: "statistics", Source: "sync:auto" } && c.RunId != null);

        // 5. POST /api/customers/{id}/update-stats: one customer's statsOnly run.
        await AddOrderDirectlyAsync(phone, 700);
        var statsJob = (string)(await (await _client.PostAsync($"/api/customers/{id}/update-stats", null)).ReadJsonAsync())["jobId"]!;
        await _client.JobAsync(statsJob);
        var statsRun = await _client.RunOfJobAsync(statsJob);
        var statistics = (await ChangesAsync(id)).Last(c => c.Field == "statistics");
        Assert.Equal(("sync:statsOnly", statsRun), (statistics.Source, statistics.RunId));
        Assert.Equal(1200m, (decimal)JsonNode.Parse(statistics.To!)!["totalSpent"]!);
        Assert.Equal(500m, (decimal)JsonNode.Parse(statistics.From!)!["totalSpent"]!);

        // 6. Full syncs of every mode.
        var fresh = TestPhones.New();
        await AddOrderDirectlyAsync(fresh, 10);
        var defaultRun = await _client.FullSyncRunAsync("default");
        var freshId = (long)(await _client.CustomerByPhoneAsync(fresh))!["id"]!;
        Assert.Contains(await ChangesAsync(freshId), c => c is { Field: "created", Source: "sync:default" } && c.RunId == defaultRun);

        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await AddOrderDirectlyAsync(fresh, 20, email: "fresh@example.com", status: "cancelled");
        var forceRun = await _client.FullSyncRunAsync("force");
        Assert.Contains(await ChangesAsync(freshId), c => c is { Field: "email", To: "\"fresh@example.com\"", Source: "sync:force" } && c.RunId == forceRun);

        await AddOrderDirectlyAsync(fresh, 30);
        var statsOnlyRun = await _client.FullSyncRunAsync("statsOnly");
        Assert.Contains(await ChangesAsync(freshId), c => c is { Field: "statistics", Source: "sync:statsOnly" } && c.RunId == statsOnlyRun);

        // 7. The category recalculation: a year without orders makes everyone inactive.
        factory.Clock.Advance(TimeSpan.FromDays(365));
        var recalculation = (string)(await (await _client.PostAsync("/api/categories/recalculate", null)).ReadJsonAsync())["jobId"]!;
        await _client.JobAsync(recalculation);
        var category = (await ChangesAsync(id)).Last(c => c.Field == "category");
        Assert.Equal(("recalculate", "\"inactive\""), (category.Source, category.To));
        var reason = JsonNode.Parse(category.Reason!)!;
        Assert.Equal("inactive", (string)reason["rule"]!);
        Assert.Equal(180, (int)reason["thresholds"]!["inactiveAfterDays"]!);

        // 8. POST /api/orders/import: its pending sync creates the customer.
        var imported = TestPhones.New();
        var import = await (await _client.PostAsync("/api/orders/import", new StringContent(
            $$"""{"customerName":"Импорт Журнал","customerPhone":"{{imported}}","totalAmount":100,"status":"completed"}""",
            Encoding.UTF8, "application/x-ndjson"))).ReadJsonAsync();
        await _client.JobAsync((string)import["jobId"]!);
        var importedId = (long)(await _client.CustomerByPhoneAsync(imported))!["id"]!;
        Assert.Contains(await ChangesAsync(importedId), c => c is { Field: "created", Source: "sync:auto" });

        // 9. The revert of a run.
        var revert = (string)(await (await _client.PostAsync($"/api/sync/runs/{forceRun}/revert", null)).ReadJsonAsync())["jobId"]!;
        await _client.JobAsync(revert);
        Assert.Contains(await ChangesAsync(freshId), c => c is { Field: "email", From: "\"fresh@example.com\"", To: "\"\"", Source: "revert" }
                                                          && c.RunId == forceRun);

        // 10. DELETE /api/customers/{id}.
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/customers/{importedId}")).StatusCode);
        Assert.Contains(await ChangesAsync(importedId), c => c is { Field: "deleted", Source: api });

        // 11. A write outside the service (psql, a migration) is recorded too, as source sql.
        await factory.ExecuteAsync("UPDATE customers SET notes = 'edited by hand' WHERE id = @id", ("id", id));
        Assert.Contains(await ChangesAsync(id), c => c is { Field: "notes", To: "\"edited by hand\"", Source: "sql" });

        // Nothing this service wrote went unnamed.
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var unnamed = dataSource.CreateCommand("SELECT count(*) FROM customer_changes WHERE source = 'sql' AND field <> 'notes'");
        Assert.Equal(0L, (long)(await unnamed.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task AnUnchangedResyncWritesNoLedgerRows()
    {
        await AddOrderDirectlyAsync(TestPhones.New(), 10);
        await _client.FullSyncRunAsync("force");
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var count = dataSource.CreateCommand("SELECT count(*) FROM customer_changes");
        var before = (long)(await count.ExecuteScalarAsync())!;

        foreach (var mode in new[] { "default", "force", "statsOnly" })
            await _client.FullSyncRunAsync(mode);

        Assert.Equal(before, (long)(await count.ExecuteScalarAsync())!);
    }

    // The ledger is complete only while its triggers are in place and enabled.
    [Fact]
    public async Task TheLedgerTriggersCoverInsertUpdateAndDeleteOfCustomers()
    {
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = dataSource.CreateCommand("""
            SELECT string_agg(tgname || ':' || tgenabled::text, ',' ORDER BY tgname)
            FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND NOT tgisinternal
            """);
        Assert.Equal("customers_ledger_delete:O,customers_ledger_insert:O,customers_ledger_update:O",
            (string)(await command.ExecuteScalarAsync())!);
    }
}
