using System.Net;
using System.Text.Json.Nodes;
using Crm.Jobs.Customers;
using Crm.Jobs.Orders;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Customers;

// The original Django CRM's routes, with its trailing slashes and snake_case bodies: the POSTs
// wait for their job and answer as the original did.
public class OriginalRoutesTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    // Straight into the table, as a shop writing around the API would: only a sync sees them.
    private async Task AddOrdersDirectlyAsync(string phone, int count, decimal amount, string city = "", DateTime? newest = null)
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await using var db = factory.CreateDbContext();
        for (var i = 0; i < count; i++)
        {
            db.Orders.Add(new Order
            {
                CustomerName = "Прямой Заказ", CustomerPhone = phone, NormalizedPhone = phone, DeliveryCity = city,
                TotalAmount = amount, Status = OrderStatus.Completed, CreatedAt = (newest ?? now).AddDays(-i), UpdatedAt = now,
            });
        }
        await db.SaveChangesAsync();
    }

    private async Task<long> AddCustomerDirectlyAsync(string phone, string name)
    {
        var now = factory.Clock.GetUtcNow().UtcDateTime;
        await using var db = factory.CreateDbContext();
        var customer = new Customer { Name = name, Phone = phone, City = "Тула", CreatedAt = now, UpdatedAt = now };
        db.Customers.Add(customer);
        await db.SaveChangesAsync();
        return customer.Id;
    }

    private static void AssertFields(JsonNode body, params string[] fields) =>
        Assert.Equal(fields.Order(), body.AsObject().Select(p => p.Key).Order());

    [Fact]
    public async Task SyncFromOrdersAnswersTheOriginalsCountsOnceTheSyncHasRun()
    {
        // Whatever earlier tests left unsynced is synced first, so the counts are this test's.
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsync("/api/customers/sync_from_orders/", null)).StatusCode);
        foreach (var phone in new[] { TestPhones.New(), TestPhones.New(), TestPhones.New() })
            await AddOrdersDirectlyAsync(phone, 2, 700m);

        var response = await _client.PostAsync("/api/customers/sync_from_orders/", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadJsonAsync();
        AssertFields(body, "status", "created_count", "updated_count", "error_count", "total_customers", "job_id");
        Assert.Equal("success", (string)body["status"]!);
        Assert.Equal(3, (int)body["created_count"]!);
        Assert.Equal(0, (int)body["updated_count"]!);
        Assert.Equal(0, (int)body["error_count"]!);
        await using var db = factory.CreateDbContext();
        Assert.Equal(await db.Customers.CountAsync(), (int)body["total_customers"]!);
        var job = await _client.JobAsync((string)body["job_id"]!);
        Assert.Equal(3, (int)job["result"]!["createdCount"]!);
    }

    [Fact]
    public async Task WithoutWaitingSyncFromOrdersAnswersTheJobToFollow()
    {
        var response = await _client.PostAsync("/api/customers/sync_from_orders/?wait=0", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.ReadJsonAsync();
        AssertFields(body, "job_id", "status_url");
        var jobId = (string)body["job_id"]!;
        Assert.Equal($"/api/jobs/{jobId}", (string)body["status_url"]!);
        Assert.Equal($"/api/jobs/{jobId}", response.Headers.Location?.ToString());
        var job = await (await _client.GetAsync((string)body["status_url"]!)).ReadJsonAsync();
        Assert.Equal(jobId, (string)job["jobId"]!);
        await _client.JobAsync(jobId);
    }

    [Fact]
    public async Task AFailingSyncAnswersTheOriginalsErrorShape()
    {
        await using var db = factory.CreateDbContext();
        await db.Database.ExecuteSqlRawAsync(CityRefusal.CreateSql("Запретный"));
        string jobId;
        try
        {
            await AddOrdersDirectlyAsync(TestPhones.New(), 1, 10m, city: "Запретный");

            var response = await _client.PostAsync("/api/customers/sync_from_orders/", null);

            var body = await response.ReadJsonAsync();
            Assert.True(response.StatusCode == HttpStatusCode.InternalServerError, body.ToJsonString());
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            AssertFields(body, "status", "error", "job_id", "status_url");
            Assert.Equal("error", (string)body["status"]!);
            Assert.Contains("P0001", (string)body["error"]!); // raise_exception, the trigger's refusal
            jobId = (string)body["job_id"]!;
            Assert.Equal($"/api/jobs/{jobId}", (string)body["status_url"]!);
        }
        finally
        {
            await db.Database.ExecuteSqlRawAsync(CityRefusal.DropSql);
        }

        // Hangfire retries the job, which succeeds once the cause is gone.
        var done = await _client.JobAsync(jobId);
        Assert.True((int)done["retryCount"]! >= 1);
    }

    [Fact]
    public async Task OrdersHistoryIsTheCustomersOrdersNewestFirstInSnakeCase()
    {
        var phone = TestPhones.New();
        var id = await AddCustomerDirectlyAsync(phone, "История");
        await AddOrdersDirectlyAsync(phone, 3, 250m);
        await AddOrdersDirectlyAsync(phone, 1, 90m); // the same time as the newest: the higher id comes first

        var response = await _client.GetAsync($"/api/customers/{id}/orders_history/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var orders = (await response.ReadJsonAsync()).AsArray();
        Assert.Equal(4, orders.Count);
        AssertFields(orders[0]!, "id", "customer_name", "customer_phone", "customer_email", "delivery_city",
            "delivery_address", "total_amount", "status", "created_at");
        Assert.Equal(90m, (decimal)orders[0]!["total_amount"]!);
        Assert.Equal("completed", (string)orders[0]!["status"]!);
        Assert.Equal(phone, (string)orders[0]!["customer_phone"]!);
        Assert.Equal(factory.Clock.GetUtcNow().UtcDateTime, (DateTime)orders[0]!["created_at"]!);
        var paged = await (await _client.GetAsync($"/api/customers/{id}/orders?pageSize=10")).ReadJsonAsync();
        Assert.Equal(paged["items"]!.AsArray().Select(o => (long)o!["id"]!), orders.Select(o => (long)o!["id"]!));

        // Without the trailing slash too, as every route here.
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/api/customers/{id}/orders_history")).StatusCode);
        await (await _client.GetAsync("/api/customers/987654321/orders_history/")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task OrdersHistoryStopsAtTheNewestThousandOrders()
    {
        var phone = TestPhones.New();
        var id = await AddCustomerDirectlyAsync(phone, "Оптовик");
        await using var db = factory.CreateDbContext();
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city, delivery_address,
                                total_amount, status, created_at, updated_at, source)
            SELECT 'Оптовик', {phone}, {phone}, '', '', '', i, 'completed', {factory.Clock.GetUtcNow().UtcDateTime}::timestamptz - make_interval(mins => i), now(), 'api'
            FROM generate_series(1, 1001) AS i
            """);

        var orders = (await (await _client.GetAsync($"/api/customers/{id}/orders_history/")).ReadJsonAsync()).AsArray();

        Assert.Equal(1_000, orders.Count);
        Assert.Equal(1m, (decimal)orders[0]!["total_amount"]!);
        Assert.Equal(1_000m, (decimal)orders[^1]!["total_amount"]!);
    }

    [Fact]
    public async Task UpdateStatsAnswersTheCustomerWithRecomputedStatistics()
    {
        var phone = TestPhones.New();
        var id = await AddCustomerDirectlyAsync(phone, "Статистика");
        await AddOrdersDirectlyAsync(phone, 10, 50m);

        var response = await _client.PostAsync($"/api/customers/{id}/update_stats/", null);

        var customer = await response.ReadJsonAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, customer.ToJsonString());
        AssertFields(customer, "id", "name", "phone", "email", "city", "address", "category", "total_orders", "total_spent",
            "average_order", "last_order_date", "notes", "created_at", "updated_at");
        Assert.Equal(id, (long)customer["id"]!);
        Assert.Equal("Статистика", (string)customer["name"]!);
        Assert.Equal(10, (int)customer["total_orders"]!);
        Assert.Equal(500m, (decimal)customer["total_spent"]!);
        Assert.Equal(50m, (decimal)customer["average_order"]!);
        Assert.Equal("vip", (string)customer["category"]!);
        Assert.Equal(factory.Clock.GetUtcNow().UtcDateTime, (DateTime)customer["last_order_date"]!);

        await (await _client.PostAsync("/api/customers/987654321/update_stats/", null)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task UpdateStatsWithoutWaitingAnswersTheJobToFollow()
    {
        var id = await AddCustomerDirectlyAsync(TestPhones.New(), "Без ожидания");

        var response = await _client.PostAsync($"/api/customers/{id}/update_stats/?wait=0", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var jobId = (string)(await response.ReadJsonAsync())["job_id"]!;
        Assert.Equal($"/api/jobs/{jobId}", response.Headers.Location?.ToString());
        await _client.JobAsync(jobId);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("301")]
    [InlineData("abc")]
    [InlineData("1.5")]
    public async Task AWaitOutsideZeroToThreeHundredSecondsIsRejected(string wait)
    {
        var id = await AddCustomerDirectlyAsync(TestPhones.New(), "Ожидание");
        await (await _client.PostAsync($"/api/customers/sync_from_orders/?wait={wait}", null)).AssertValidationErrorAsync("wait");
        await (await _client.PostAsync($"/api/customers/{id}/update_stats/?wait={wait}", null)).AssertValidationErrorAsync("wait");
    }

    [Fact]
    public async Task TheRoutesNeedAKeyAndThePostsMoreThanAReader()
    {
        var id = await AddCustomerDirectlyAsync(TestPhones.New(), "Ключи");
        var anonymous = factory.CreateClient(key: null);
        var reader = factory.CreateClient(TestKeys.Reader);

        await (await anonymous.PostAsync("/api/customers/sync_from_orders/", null)).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await anonymous.GetAsync($"/api/customers/{id}/orders_history/")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await anonymous.PostAsync($"/api/customers/{id}/update_stats/", null)).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await (await reader.PostAsync("/api/customers/sync_from_orders/", null)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.PostAsync($"/api/customers/{id}/update_stats/", null)).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/customers/{id}/orders_history/")).StatusCode);
    }

    [Fact]
    public async Task TheOpenApiDocumentMarksTheRoutesDeprecated()
    {
        var paths = (await (await _client.GetAsync("/openapi/v1.json")).ReadJsonAsync())["paths"]!;

        Assert.True((bool?)paths["/api/customers/sync_from_orders"]!["post"]!["deprecated"]);
        Assert.True((bool?)paths["/api/customers/{id}/orders_history"]!["get"]!["deprecated"]);
        Assert.True((bool?)paths["/api/customers/{id}/update_stats"]!["post"]!["deprecated"]);
        Assert.Null(paths["/api/customers/{id}/orders"]!["get"]!["deprecated"]);
        var sync = paths["/api/customers/sync_from_orders"]!["post"]!;
        foreach (var status in new[] { "200", "202", "400", "401", "403", "429", "500" })
            Assert.NotNull(sync["responses"]![status]);
        var parameters = sync["parameters"]!.AsArray().Select(p => (string?)p!["name"]).ToList();
        Assert.True(parameters.SequenceEqual(["wait"]), string.Join(", ", parameters));
        Assert.NotNull(sync["responses"]!["200"]!["content"]!["application/json"]!["schema"]);
    }
}
