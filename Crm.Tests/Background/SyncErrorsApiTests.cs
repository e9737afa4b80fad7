using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Crm.Api.Infrastructure;
using Crm.Api.Sync;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Background;

// Where an operator sees a customer the database refused: the job's result, the run, the
// errors list and the dashboard's Syncs page. The rest of the sync commits.
public class SyncErrorsApiTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task ARefusedCustomerIsReportedEverywhereAndTheOthersAreWritten()
    {
        // Straight into the table, as an older importer could have written it: a 17-digit
        // "possible" number that the customers table's E.164 check refuses.
        const string poisoned = "+49301234567890123";
        var good = TestPhones.New();
        await using (var db = factory.CreateDbContext())
        {
            var now = factory.Clock.GetUtcNow().UtcDateTime;
            foreach (var phone in new[] { poisoned, good })
            {
                db.Orders.Add(new Order
                {
                    CustomerName = "Прямой Заказ", CustomerPhone = phone, NormalizedPhone = phone, TotalAmount = 100m,
                    Status = OrderStatus.Completed, CreatedAt = now.AddDays(-1), UpdatedAt = now,
                });
            }
            await db.SaveChangesAsync();
        }

        var accepted = await (await _client.PostAsJsonAsync("/api/sync", new { mode = "default" })).ReadJsonAsync<JobAccepted>();
        var jobId = accepted.JobId;
        var job = await _client.JobAsync(jobId);

        // One attempt: a refused row is not a reason to retry the whole sync.
        Assert.Equal(0, (int)job["retryCount"]!);
        Assert.Equal(1, (int)job["result"]!["errorCount"]!);
        await using (var db = factory.CreateDbContext())
            Assert.Equal(1, await db.Customers.CountAsync(c => c.Phone == good));

        var runs = await (await _client.GetAsync("/api/sync/runs")).ReadJsonAsync<PagedResponse<SyncRunResponse>>();
        var run = runs.Items.First(r => r.JobId == jobId);
        Assert.Equal((SyncRunStatus.Succeeded, 1), (run.Status, run.ErrorCount));
        // What happened, not which constraint (FailureText).
        Assert.Contains("first error: A database constraint refused a row (23514)", run.Error);
        Assert.DoesNotContain("ck_customers_phone_e164", run.Error);
        Assert.DoesNotContain(poisoned, run.Error);

        var errors = await (await _client.GetAsync("/api/sync/errors")).ReadJsonAsync<PagedResponse<SyncErrorResponse>>();
        var error = Assert.Single(errors.Items);
        Assert.Equal((poisoned, "23514", 1), (error.Phone, error.SqlState, error.Attempts));
        Assert.Equal("A database constraint refused a row (23514)", error.Error);
        Assert.True(error.RetryAt > error.LastFailedAt);

        var page = new HttpRequestMessage(HttpMethod.Get, "/hangfire/syncs");
        page.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestKeys.Admin.Name}:{TestKeys.Admin.Key}")));
        var html = await (await factory.CreateClient(key: null).SendAsync(page)).Content.ReadAsStringAsync();
        Assert.Contains("id=\"sync-errors\"", html);
        Assert.Contains(poisoned, html);
    }

    [Fact]
    public async Task TheErrorsListNeedsAKeyAndValidPaging()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.CreateClient(key: null).GetAsync("/api/sync/errors")).StatusCode);
        await (await _client.GetAsync("/api/sync/errors?pageSize=0")).AssertValidationErrorAsync("pageSize");
    }
}
