using System.Net;
using System.Net.Http.Json;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Ledger;

// POST /api/sync with dryRun: the job's result says what the sync would change.
public class DryRunApiTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task ADryRunsJobReportsTheCountsChangesAndSampleAndWritesNoCustomer()
    {
        var phone = TestPhones.New();
        await using (var dataSource = NpgsqlDataSource.Create(factory.ConnectionString))
        await using (var command = dataSource.CreateCommand("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, total_amount, status, created_at, updated_at)
            VALUES ('Пробный Прогон', @phone, @phone, 'dry@example.com', 250, 'completed', now(), now())
            """))
        {
            command.Parameters.AddWithValue("phone", phone);
            await command.ExecuteNonQueryAsync();
        }

        var response = await _client.PostAsJsonAsync("/api/sync", new { mode = "force", dryRun = true });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var result = (await _client.JobAsync((string)(await response.ReadJsonAsync())["jobId"]!))["result"]!;
        Assert.True((bool)result["dryRun"]!);
        Assert.Equal(1, (int)result["createdCount"]!);
        Assert.Equal(1, (int)result["changes"]!["created"]!);
        // The sample says that a customer would be created; who it is stays out of the job's result.
        var created = result["sample"]!.AsArray().Single()!;
        Assert.Equal("created", (string)created["field"]!);
        Assert.Null(created["to"]);
        Assert.Null(created["phone"]);
        Assert.DoesNotContain(phone, result.ToJsonString());
        Assert.DoesNotContain("Пробный Прогон", result.ToJsonString());
        Assert.Null(await _client.CustomerByPhoneAsync(phone));

        var runs = await (await _client.GetAsync("/api/sync/runs")).ReadJsonAsync();
        var run = runs["items"]!.AsArray().First(r => (long)r!["id"]! == (long)result["runId"]!)!;
        Assert.True((bool)run["dryRun"]!);
        Assert.Equal(1, (int)run["changes"]!["created"]!);
    }
}
