using System.Net;
using System.Net.Http.Json;
using Crm.Jobs.Orders;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// A full sync's job names the run it recorded: GET /api/jobs/{jobId} → result.runId is the
// id to revert (POST /api/sync/runs/{id}/revert).
public class FullSyncJobResultTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task AFullSyncsJobResultCarriesTheIdOfItsRun()
    {
        await using (var db = factory.CreateDbContext())
        {
            // Straight into the table, as a shop writing around the API would: only a sync sees it.
            var phone = "+7999" + Random.Shared.Next(1_000_000, 9_999_999);
            var now = factory.Clock.GetUtcNow().UtcDateTime;
            db.Orders.Add(new Order
            {
                CustomerName = "Прямой Заказ", CustomerPhone = phone, NormalizedPhone = phone, TotalAmount = 500m,
                Status = OrderStatus.Completed, CreatedAt = now, UpdatedAt = now,
            });
            await db.SaveChangesAsync();
        }

        var response = await _client.PostAsJsonAsync("/api/sync", new { mode = "force" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (string)(await response.ReadJsonAsync())["jobId"]!;

        var job = await _client.JobAsync(jobId);
        Assert.Equal("Succeeded", (string)job["state"]!);
        var runId = (long)job["result"]!["runId"]!;

        var runs = (await (await _client.GetAsync("/api/sync/runs")).ReadJsonAsync())["items"]!.AsArray();
        var newestFullSync = runs
            .Where(r => (string)r!["mode"]! == "force" && !(bool)r!["dryRun"]!)
            .MaxBy(r => (long)r!["id"]!)!;
        Assert.Equal((long)newestFullSync["id"]!, runId);
        Assert.Equal(jobId, (string?)newestFullSync["jobId"]);
    }
}
