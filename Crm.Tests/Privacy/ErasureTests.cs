using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Crm.Api.Privacy;
using Crm.Jobs.Privacy;
using Crm.Tests.Infrastructure;
using Crm.Tests.Webhooks;

namespace Crm.Tests.Privacy;

// An erase from outside: a person's data spread over every store (orders by API and import,
// a note, contact edits in the ledger, webhook events delivered to a real receiver, sync
// runs, jobs), then erased. Nothing of them is left in any text column of either schema,
// nothing brings them back, and a new order starts a new customer.
public class ErasureTests(WebhookCrmApiFactory factory) : IClassFixture<WebhookCrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private sealed record Person(string Raw, string E164, string Name, string Email);

    private static Person NewPerson()
    {
        var (raw, e164) = TestPhones.NewSpelledWith8();
        var tag = Guid.NewGuid().ToString("N")[..10];
        return new Person(raw, e164, $"Стирание {tag}", $"erase-{tag}@example.org");
    }

    private static string Ndjson(Person person, DateTimeOffset createdAt, int count) =>
        string.Concat(Enumerable.Range(0, count).Select(i =>
            $$"""{"customerName":"{{person.Name}}","customerPhone":"{{person.Raw}}","customerEmail":"{{person.Email}}","totalAmount":{{100 + i}},"status":"completed","createdAt":"{{createdAt.AddMinutes(i):O}}"}""" + "\n"));

    private async Task<JsonNode> ImportAsync(string body)
    {
        var response = await _client.PostAsync("/api/orders/import", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var report = await response.ReadJsonAsync();
        if (report["jobId"] is { } jobId)
            await _client.JobAsync((string)jobId!);
        return report;
    }

    private async Task<long> CustomerIdAsync(string e164) =>
        (long)(await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(e164), c => c is not null, $"customer {e164}"))!["id"]!;

    [Fact]
    public async Task AnErasedPersonLeavesNothingBehindAndStaysErased()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var subscription = await _client.SubscribeAsync(receiver, "*");
        var person = NewPerson();
        var other = NewPerson();
        var past = DateTimeOffset.UtcNow.AddDays(-30);

        // Orders: through the API in one spelling, an import in another, and someone else's.
        await _client.OrderAsync(person.Raw, 700m, person.Name);
        var file = Ndjson(person, past, 5) + Ndjson(other, past, 2);
        await ImportAsync(file);
        var id = await CustomerIdAsync(person.E164);
        var otherId = await CustomerIdAsync(other.E164);

        // A note, contact edits (ledger rows), a full sync (a run) and a dry run (a job result).
        Assert.Equal(HttpStatusCode.Created,
            (await _client.PostAsJsonAsync($"/api/customers/{id}/notes", new { note = $"Call {person.Name} at {person.E164}" })).StatusCode);
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/customers/{id}") { Content = JsonContent.Create(new { city = "Казань", address = "ул. Стирания, 1" }) };
        patch.Headers.TryAddWithoutValidation("If-Match", "*");
        Assert.True((await _client.SendAsync(patch)).IsSuccessStatusCode);
        await _client.FullSyncRunAsync("default");
        var dryRun = await (await _client.PostAsJsonAsync("/api/sync", new { mode = "force", dryRun = true })).ReadJsonAsync();
        await _client.JobAsync((string)dryRun["jobId"]!);
        await receiver.EventsAsync(e => e.Any(x => (long?)x["data"]?["customerId"] == id && (string?)x["type"] == "customer.updated"),
            "the person's events delivered");

        string[] needles = [person.E164, person.Raw, person.Name, person.Email, "ул. Стирания"];
        Assert.NotEmpty(await PersonalDataScan.FindAsync(factory.ConnectionString, needles));

        // The export lists every row the erase will touch.
        var export = await (await _client.GetAsync($"/api/customers/{id}/export")).ReadJsonAsync();
        Assert.Equal(person.E164, (string?)export["phone"]);
        var stores = export["stores"]!.AsObject();
        Assert.Equal(6, stores["orders"]!.AsArray().Count);
        Assert.Single(stores["customers"]!.AsArray());
        Assert.Single(stores["notes"]!.AsArray());

        var erase = await _client.PostAsync($"/api/customers/{id}/erase", null);
        Assert.Equal(HttpStatusCode.Accepted, erase.StatusCode);
        var accepted = await erase.ReadJsonAsync<ErasureAccepted>();
        Assert.Equal($"/api/jobs/{accepted.JobId}", erase.Headers.Location?.OriginalString);
        await _client.JobAsync(accepted.JobId);

        // Nothing of the person in any text or jsonb column of either schema.
        Assert.Empty(await PersonalDataScan.FindAsync(factory.ConnectionString, needles));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/customers/{id}")).StatusCode);
        Assert.NotNull(await _client.CustomerByPhoneAsync(other.E164));

        // The receipt: counts per store, each within what the export listed; never the phone.
        var receiptResponse = await _client.GetAsync($"/api/privacy/erasures/{accepted.ErasureId}");
        var receiptText = await receiptResponse.Content.ReadAsStringAsync();
        Assert.DoesNotContain(person.E164, receiptText);
        var receipt = await receiptResponse.ReadJsonAsync<ErasureReceipt>();
        Assert.Equal(TestKeys.Admin.Name, receipt.RequestedBy);
        Assert.Equal(id, receipt.CustomerId);
        Assert.NotNull(receipt.CompletedAt);
        Assert.Equal(1, receipt.Counts!["customers"]);
        Assert.Equal(6, receipt.Counts["orders"]);
        Assert.Equal(1, receipt.Counts["notes"]);
        Assert.True(receipt.Counts["ledger"] > 0 && receipt.Counts["webhookEvents"] + receipt.Counts["webhookMessages"] > 0,
            string.Join(", ", receipt.Counts));
        Console.WriteLine("Erase receipt: " + string.Join(", ", receipt.Counts));
        foreach (var (store, count) in receipt.Counts)
            Assert.True(count <= stores[store]!.AsArray().Count, $"{store}: erased {count}, exported {stores[store]!.AsArray().Count}");

        // The ledger still says that something changed (field, time, source), without the values.
        await using (var dataSource = Npgsql.NpgsqlDataSource.Create(factory.ConnectionString))
        {
            await using var command = dataSource.CreateCommand("""
                SELECT count(*) FILTER (WHERE field = 'city'),
                       count(*) FILTER (WHERE field = 'deleted' AND source = 'erase'),
                       count(*) FILTER (WHERE field = ANY(@personal) AND (old_value IS NOT NULL OR new_value IS NOT NULL))
                FROM customer_changes WHERE customer_id = @id
                """);
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("personal", Crm.Jobs.Ledger.CustomerChange.PersonalFields);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.Equal((1L, 1L, 0L), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)));
        }

        // Subscribers hear customer.erased, with the id and the time only.
        var erased = (await receiver.EventsAsync(e => e.Any(x => (string?)x["type"] == "customer.erased"), "customer.erased"))
            .Single(x => (string?)x["type"] == "customer.erased");
        Assert.Equal(["customerId", "erasedAt"], erased["data"]!.AsObject().Select(p => p.Key).Order());
        Assert.Equal(id, (long)erased["data"]!["customerId"]!);

        // Nothing brings the person back: full and force syncs, the same file again, an old order.
        await _client.FullSyncRunAsync("default");
        await _client.FullSyncRunAsync("force");
        var again = await ImportAsync(file);
        Assert.Equal(5, (int)again["skippedErased"]!);
        Assert.Equal(2, (int)again["imported"]!);
        var old = await _client.PostAsJsonAsync("/api/orders", new
        {
            customerName = person.Name, customerPhone = person.E164, totalAmount = 10m, status = "completed", createdAt = past,
        });
        var problem = await old.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.DoesNotContain(person.E164, problem.ToJsonString());
        await _client.FullSyncRunAsync("force");
        Assert.Null(await _client.CustomerByPhoneAsync(person.E164));
        Assert.Empty(await PersonalDataScan.FindAsync(factory.ConnectionString, needles));

        // An order placed after the erase is a new relationship: a new customer.
        await _client.OrderAsync(person.Raw, 55m, person.Name);
        var newId = await CustomerIdAsync(person.E164);
        Assert.NotEqual(id, newId);
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }
}
