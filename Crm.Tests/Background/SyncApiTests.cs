using System.Net;
using System.Net.Http.Json;
using Crm.Api.Customers;
using Crm.Api.Infrastructure;
using Crm.Api.Orders;
using Crm.Api.Sync;
using Crm.Jobs.Customers;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Tests.Background;

// Full syncs, statistics and category jobs through the HTTP API, run by the real Hangfire server.
public class SyncApiTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<string> AddOrdersDirectlyAsync(int count, decimal amount, OrderStatus status = OrderStatus.Completed)
    {
        // Straight into the table, as a shop writing around the API would: only a sync sees them.
        var phone = TestPhones.New();
        await using var db = factory.CreateDbContext();
        for (var i = 0; i < count; i++)
        {
            db.Orders.Add(new Order
            {
                CustomerName = "Прямой Заказ", CustomerPhone = phone, NormalizedPhone = phone, TotalAmount = amount,
                Status = status, CreatedAt = factory.Clock.GetUtcNow().UtcDateTime.AddDays(-i), UpdatedAt = factory.Clock.GetUtcNow().UtcDateTime,
            });
        }
        await db.SaveChangesAsync();
        return phone;
    }

    [Fact]
    public async Task AFullSyncIsAcceptedWithAJobWhoseResultCarriesTheCounts()
    {
        var phone = await AddOrdersDirectlyAsync(3, 1000m);

        var response = await _client.PostAsJsonAsync("/api/sync", new { mode = "default" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.ReadJsonAsync<JobAccepted>();
        var jobId = accepted.JobId;
        Assert.Equal($"/api/jobs/{jobId}", response.Headers.Location?.ToString());
        Assert.Equal($"/api/jobs/{jobId}", accepted.StatusUrl);

        var job = await _client.JobAsync(jobId);
        var result = job["result"]!;
        Assert.True((int)result["createdCount"]! >= 1);
        Assert.Equal((int)result["totalCustomers"]!,
            (int)result["createdCount"]! + (int)result["updatedCount"]! + (int)result["unchangedCount"]!);
        Assert.True((long)result["durationMs"]! >= 0);
        Assert.Equal(0, (int)job["retryCount"]!);
        Assert.NotNull(job["createdAt"]);

        await using var db = factory.CreateDbContext();
        var customer = await db.Customers.SingleAsync(c => c.Phone == phone);
        Assert.Equal((3, 3000m, CustomerCategory.Regular), (customer.TotalOrders, customer.TotalSpent, customer.Category));

        var runs = await (await _client.GetAsync("/api/sync/runs")).ReadJsonAsync<PagedResponse<SyncRunResponse>>();
        var run = runs.Items.First(r => r.JobId == jobId);
        Assert.True(runs.TotalCountExact);
        Assert.Equal(SyncMode.Default, run.Mode);
        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
    }

    [Fact]
    public async Task ASecondRunReportsEverythingUnchanged()
    {
        await AddOrdersDirectlyAsync(2, 10m);
        var first = await (await _client.PostAsJsonAsync("/api/sync", new { mode = "force" })).ReadJsonAsync<JobAccepted>();
        await _client.JobAsync(first.JobId);

        var second = await (await _client.PostAsJsonAsync("/api/sync", new { mode = "force" })).ReadJsonAsync<JobAccepted>();
        var result = (await _client.JobAsync(second.JobId))["result"]!;

        Assert.Equal(0, (int)result["createdCount"]!);
        Assert.Equal(0, (int)result["updatedCount"]!);
        Assert.Equal((int)result["totalCustomers"]!, (int)result["unchangedCount"]!);
    }

    [Fact]
    public async Task AskingForTheSameModeWhileOneIsWaitingReturnsItsJob()
    {
        // Hold the bulk lock so the first sync cannot finish while the second request arrives.
        await using var blocker = new NpgsqlConnection(factory.ConnectionString);
        await blocker.OpenAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({Crm.Jobs.Sync.SyncEngine.BulkLockKey})", blocker))
            await take.ExecuteNonQueryAsync();

        // Sixteen at once queue up on the dedupe's advisory lock: one job, the others find it.
        var firsts = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            (await (await factory.CreateClient().PostAsJsonAsync("/api/sync", new { mode = "statsOnly" })).ReadJsonAsync<JobAccepted>()).JobId));
        var first = Assert.Single(firsts.Distinct());
        var second = (await (await _client.PostAsJsonAsync("/api/sync", new { mode = "statsOnly" })).ReadJsonAsync<JobAccepted>()).JobId;
        var other = (await (await _client.PostAsJsonAsync("/api/sync", new { mode = "force" })).ReadJsonAsync<JobAccepted>()).JobId;

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);

        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({Crm.Jobs.Sync.SyncEngine.BulkLockKey})", blocker))
            await release.ExecuteNonQueryAsync();
        await _client.JobAsync(first);
        await _client.JobAsync(other);

        // Once it has finished, asking again queues a new one.
        var third = (await (await _client.PostAsJsonAsync("/api/sync", new { mode = "statsOnly" })).ReadJsonAsync<JobAccepted>()).JobId;
        Assert.NotEqual(first, third);
        await _client.JobAsync(third);
    }

    [Theory]
    [InlineData("""{"mode":"auto"}""", "mode")]
    [InlineData("""{"mode":"everything"}""", "mode")]
    [InlineData("""{"mode":null}""", "mode")]
    [InlineData("""{}""", "mode")]
    [InlineData("""{"mode":"default","extra":1}""", "extra")]
    public async Task AnUnknownSyncModeIsRejected(string body, string field) =>
        await (await _client.PostRawAsync("/api/sync", body)).AssertValidationErrorAsync(field);

    [Fact]
    public async Task AJobThatFailsIsRetriedAndTheRetryIsVisible()
    {
        // A real failure: the database refuses every write of the customer until the trigger
        // goes away.
        await using var db = factory.CreateDbContext();
        await db.Database.ExecuteSqlRawAsync(CityRefusal.CreateSql("Запретный"));
        string jobId;
        try
        {
            var order = await (await _client.PostAsJsonAsync("/api/orders", new
            {
                customerName = "Повтор", customerPhone = TestPhones.New(),
                deliveryCity = "Запретный", totalAmount = 10, status = "completed",
            })).ReadJsonAsync<OrderResponse>();
            jobId = order.SyncJobId!;

            var retrying = await Waiting.UntilAsync(
                async () => await (await _client.GetAsync($"/api/jobs/{jobId}")).ReadJsonAsync(),
                // Each failure schedules the next attempt: the job waits in Scheduled with its reason.
                job => (int)job["retryCount"]! >= 1 && (string?)job["state"] == "Scheduled", "a retry to be scheduled");
            Assert.Contains("P0001", (string?)retrying["reason"] ?? ""); // raise_exception
        }
        finally
        {
            await db.Database.ExecuteSqlRawAsync(CityRefusal.DropSql);
        }

        var done = await _client.JobAsync(jobId);
        Assert.True((int)done["retryCount"]! >= 1);
        var runs = await db.SyncRuns.Where(r => r.JobId == jobId).OrderBy(r => r.Id).ToListAsync();
        Assert.Equal(Crm.Jobs.Sync.SyncRunStatus.Failed, runs.First().Status);
        Assert.Equal(Crm.Jobs.Sync.SyncRunStatus.Succeeded, runs.Last().Status);
    }

    [Fact]
    public async Task UpdateStatsRecomputesOneCustomer()
    {
        var phone = await AddOrdersDirectlyAsync(10, 50m);
        await using var db = factory.CreateDbContext();
        var customer = new Customer { Name = "Статистика", Phone = phone, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow };
        db.Customers.Add(customer);
        await db.SaveChangesAsync();

        var response = await _client.PostAsync($"/api/customers/{customer.Id}/update-stats", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await _client.JobAsync((await response.ReadJsonAsync<JobAccepted>()).JobId);
        Assert.Equal(1, (int)job["result"]!["updatedCount"]!);
        var updated = await (await _client.GetAsync($"/api/customers/{customer.Id}")).ReadJsonAsync<CustomerResponse>();
        Assert.Equal(10, updated.TotalOrders);
        Assert.Equal(CustomerCategory.Vip, updated.Category);
        Assert.Equal("Статистика", updated.Name);

        await (await _client.PostAsync("/api/customers/987654321/update-stats", null)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task CategoriesAreCountedAndRecalculatedByAJob()
    {
        await using var db = factory.CreateDbContext();
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        var lapsed = new Customer
        {
            Name = "Бывший VIP", Phone = TestPhones.New(), Category = CustomerCategory.Vip,
            TotalOrders = 12, TotalSpent = 150_000m, AverageOrder = 12_500m, LastOrderDate = now.AddDays(-200),
            CreatedAt = now, UpdatedAt = now,
        };
        db.Customers.Add(lapsed);
        await db.SaveChangesAsync();
        var before = await CountsAsync();

        var response = await _client.PostAsync("/api/categories/recalculate", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await _client.JobAsync((await response.ReadJsonAsync<JobAccepted>()).JobId);
        Assert.True((int?)job["result"]?["changedCount"] >= 1, job.ToJsonString());
        Assert.Equal(CustomerCategory.Inactive, (await db.Customers.AsNoTracking().SingleAsync(c => c.Id == lapsed.Id)).Category);
        var after = await CountsAsync();
        Assert.Equal(before.Values.Sum(), after.Values.Sum());
        Assert.Equal(["new", "regular", "vip", "inactive"], after.Keys);
    }

    private async Task<Dictionary<string, int>> CountsAsync()
    {
        var counts = (await (await _client.GetAsync("/api/categories")).ReadJsonAsync()).AsArray();
        return counts.ToDictionary(c => (string)c!["category"]!, c => (int)c!["count"]!);
    }

    [Theory]
    [InlineData("987654321")]
    [InlineData("abc")]
    [InlineData("99999999999999999999")]
    public async Task AnUnknownJobIsNotFound(string jobId) =>
        await (await _client.GetAsync($"/api/jobs/{jobId}")).AssertProblemAsync(HttpStatusCode.NotFound);

    [Fact]
    public async Task TheDashboardShowsTheRecurringJobs()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire/recurring");
        request.Headers.Authorization = new("Basic", Convert.ToBase64String(
            System.Text.Encoding.UTF8.GetBytes($"{TestKeys.Admin.Name}:{TestKeys.Admin.Key}")));
        var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("crm-minimal jobs", page);
        Assert.Contains("recalculate-categories", page);
        Assert.Contains("sync-default", page);
        Assert.Contains("0 3 * * *", page);
    }
}
