using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Customers;

// The property of a merge: undone, it leaves every customer, phone, note and statistic as it
// was (apart from updated_at), and a full sync after either step changes nothing. Random
// customers, orders (completed or not), other phones, notes and edits, from fixed seeds so a
// failure repeats.
public class MergePropertyTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static readonly string[] Statuses = ["completed", "completed", "new", "cancelled"];
    private static readonly string[] Cities = ["Казань", "Самара", "", "Москва"];
    private static readonly string[] Emails = ["", "a@example.com", "B@example.com", "b@example.com"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task MergeThenUnmergeLeavesEverythingAsItWasAndSyncsChangeNothing(int seed)
    {
        var random = new Random(seed);
        var ids = new List<long>();
        for (var c = 0; c < 4; c++)
        {
            // A customer's orders all carry its name, or none (then it is the placeholder): so
            // the syncs that follow a merge and an unmerge find no name to fill in.
            var (phone, name) = (TestPhones.New(), random.Next(2) == 0 ? $"Покупатель {seed}.{c}" : "");
            for (var o = 0; o < random.Next(1, 5); o++)
                await OrderAsync(phone, name, random);
            var id = (long)(await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(phone), x => x is not null, "the customer"))!["id"]!;
            ids.Add(id);
            if (random.Next(2) == 0)
            {
                var other = TestPhones.New();
                Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync($"/api/customers/{id}/phones", new { phone = other })).StatusCode);
                for (var o = 0; o < random.Next(0, 3); o++)
                    await OrderAsync(other, name, random);
            }
            for (var n = 0; n < random.Next(0, 3); n++)
                Assert.Equal(HttpStatusCode.Created, (await _client.PostAsJsonAsync($"/api/customers/{id}/notes", new { note = $"заметка {seed}.{c}.{n}" })).StatusCode);
            var edit = new JsonObject { ["city"] = Cities[random.Next(Cities.Length)], ["email"] = Emails[random.Next(Emails.Length)] };
            if (random.Next(2) == 0)
                edit["notes"] = $"поле заметок {seed}.{c}";
            Assert.Equal(HttpStatusCode.OK, (await _client.PatchJsonAsync($"/api/customers/{id}", edit)).StatusCode);
        }
        await AllSyncedAsync();
        var before = await StateAsync();

        var shuffled = ids.OrderBy(_ => random.Next()).ToList();
        var (target, sources) = (shuffled[0], shuffled.Skip(1).Take(random.Next(1, 4)).ToArray());
        var preview = await (await _client.PostAsJsonAsync("/api/customers/merge/preview", new { targetId = target, sourceIds = sources })).ReadJsonAsync();
        var merge = await _client.AcceptedJobAsync(await _client.PostAsJsonAsync("/api/customers/merge", new { targetId = target, sourceIds = sources }));

        var merged = await (await _client.GetAsync($"/api/customers/{target}")).ReadJsonAsync();
        foreach (var field in new[] { "phones", "totalOrders", "totalSpent", "averageOrder", "lastOrderDate", "category" })
            Assert.Equal(preview[field]!.ToJsonString(), merged[field]!.ToJsonString());
        foreach (var field in new[] { "name", "email", "city", "address", "notes" })
            Assert.Equal(preview[field]!["value"]!.ToJsonString(), merged[field]!.ToJsonString());
        await NothingChangesAsync();

        await _client.AcceptedJobAsync(await _client.PostAsync($"/api/customers/merges/{merge["mergeId"]}/unmerge", null));

        Assert.Equal(before, await StateAsync());
        await NothingChangesAsync();
        Assert.Equal(before, await StateAsync());
    }

    private Task OrderAsync(string phone, string name, Random random) =>
        _client.PostAsJsonAsync("/api/orders", new
        {
            customerName = name,
            customerPhone = phone,
            totalAmount = random.Next(1, 60_000),
            status = Statuses[random.Next(Statuses.Length)],
            createdAt = factory.Clock.GetUtcNow().AddDays(-random.Next(0, 400)),
        }).ContinueWith(t => Assert.Equal(HttpStatusCode.Created, t.Result.StatusCode));

    // Every pending write synced: the state compared is a settled one.
    private async Task AllSyncedAsync() =>
        await Waiting.UntilAsync(async () => await ScalarAsync("SELECT count(*) FROM customer_sync_requests WHERE version > synced_version"),
            n => n == 0, "every write synced");

    // A full sync in each mode that keeps what an unmerge restores finds nothing to change.
    private async Task NothingChangesAsync()
    {
        foreach (var mode in new[] { "default", "statsOnly" })
        {
            var job = (string)(await (await _client.PostAsJsonAsync("/api/sync", new { mode })).ReadJsonAsync())["jobId"]!;
            var result = (await _client.JobAsync(job))["result"]!;
            Assert.True((int)result["createdCount"]! == 0 && (int)result["updatedCount"]! == 0, $"{mode}: {result.ToJsonString()}");
        }
    }

    // Every customer (but updated_at), every other phone and every note, as stored.
    private async Task<string> StateAsync()
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        var state = new StringBuilder();
        foreach (var sql in new[]
        {
            """
            SELECT id, name, phone, email, city, address, notes, category, category_rule, total_orders, total_spent,
                   average_order, last_order_date, created_at FROM customers ORDER BY id
            """,
            "SELECT phone, customer_id, added_at FROM customer_phones ORDER BY phone",
            "SELECT id, customer_id, note, created_by, created_at FROM customer_notes ORDER BY id",
        })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                    state.Append(reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)).Append('|');
                state.AppendLine();
            }
        }
        return state.ToString();
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
