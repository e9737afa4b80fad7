using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Crm.Api.Orders;
using Crm.Jobs.Orders;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Background;

// Orders in, customers out: every write enqueues the auto sync of its customer, run by the
// app's real Hangfire server on PostgreSQL.
public class OrdersSyncTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<OrderResponse> PostOrderAsync(object order)
    {
        var response = await _client.PostAsJsonAsync("/api/orders", order);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.ReadJsonAsync<OrderResponse>();
    }

    [Fact]
    public async Task WritingAnOrderCreatesItsCustomerThroughAJob()
    {
        var (raw, phone) = TestPhones.NewSpelledWith8();
        var order = await PostOrderAsync(new
        {
            customerName = "Мария Кузнецова", customerPhone = raw,
            customerEmail = "maria@example.com", deliveryCity = "Самара", deliveryAddress = "ул. Ленинградская, 10",
            totalAmount = 2500.50m, status = "completed",
        });

        Assert.Equal(phone, order.NormalizedPhone);
        var jobId = order.SyncJobId!;
        var job = await _client.JobAsync(jobId);
        Assert.Equal(1, (int)job["result"]!["createdCount"]!);

        var customer = await _client.CustomerByPhoneAsync(phone);
        Assert.NotNull(customer);
        Assert.Equal("Мария Кузнецова", (string)customer["name"]!);
        Assert.Equal("Самара", (string)customer["city"]!);
        Assert.Equal(1, (int)customer["totalOrders"]!);
        Assert.Equal(2500.50m, (decimal)customer["totalSpent"]!);
        Assert.Equal("new", (string)customer["category"]!);
    }

    [Fact]
    public async Task AnOrderWithoutAUsablePhoneIsStoredButSyncsNobody()
    {
        var order = await PostOrderAsync(new { customerName = "Без телефона", customerPhone = "не указан", totalAmount = 100 });

        Assert.Null(order.NormalizedPhone);
        Assert.Null(order.SyncJobId);
        Assert.Equal("не указан", order.CustomerPhone);
        Assert.Equal(OrderStatus.New, order.Status);
        Assert.Equal(factory.Clock.GetUtcNow().UtcDateTime, order.CreatedAt);
    }

    [Fact]
    public async Task CreatedAtCarriesHistoryAndOrdersAreListedNewestFirst()
    {
        var phone = TestPhones.New();
        var old = await PostOrderAsync(new { customerPhone = phone, totalAmount = 10, status = "completed", createdAt = "2025-01-15T10:00:00Z" });
        var newer = await PostOrderAsync(new { customerPhone = phone, totalAmount = 20, status = "completed", createdAt = "2026-03-01T10:00:00+03:00" });
        await _client.JobAsync(newer.SyncJobId!);
        await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(phone), c => c is not null && (int)c["totalOrders"]! == 2, "both orders counted");

        Assert.Equal(new DateTime(2026, 3, 1, 7, 0, 0, DateTimeKind.Utc), newer.CreatedAt);
        var customer = (await _client.CustomerByPhoneAsync(phone))!;
        var history = await (await _client.GetAsync($"/api/customers/{customer["id"]}/orders?pageSize=1")).ReadJsonAsync();
        Assert.Equal(2, (int)history["totalCount"]!);
        Assert.True((bool)history["totalCountExact"]!);
        Assert.Equal(newer.Id, (long)history["items"]![0]!["id"]!);
        var second = await (await _client.GetAsync($"/api/customers/{customer["id"]}/orders?page=2&pageSize=1")).ReadJsonAsync();
        Assert.Equal(old.Id, (long)second["items"]![0]!["id"]!);

        var byPhone = await (await _client.GetAsync($"/api/orders?phone={Uri.EscapeDataString("8" + phone[2..])}&status=completed")).ReadJsonAsync();
        Assert.Equal([newer.Id, old.Id], byPhone["items"]!.AsArray().Select(o => (long)o!["id"]!));
    }

    [Fact]
    public async Task ChangingAnOrdersPhoneSyncsBothCustomers()
    {
        var first = TestPhones.New();
        var second = TestPhones.New();
        await PostOrderAsync(new { customerName = "Первый", customerPhone = first, totalAmount = 100, status = "completed" });
        var moving = await PostOrderAsync(new { customerName = "Первый", customerPhone = first, totalAmount = 900, status = "completed" });
        await _client.JobAsync(moving.SyncJobId!);
        await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(first), c => c is not null && (decimal)c["totalSpent"]! == 1000m, "first customer at 1000");

        var patch = await _client.PatchJsonAsync($"/api/orders/{moving.Id}", new { customerPhone = second, customerName = "Второй" });

        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var patched = await patch.ReadJsonAsync<OrderResponse>();
        await _client.JobAsync(patched.SyncJobId!);
        await _client.JobAsync(patched.PreviousCustomerSyncJobId!);
        var firstCustomer = await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(first), c => (decimal)c!["totalSpent"]! == 100m, "first customer back to 100");
        Assert.Equal(1, (int)firstCustomer!["totalOrders"]!);
        var secondCustomer = await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(second), c => c is not null, "second customer");
        Assert.Equal(900m, (decimal)secondCustomer!["totalSpent"]!);
        Assert.Equal("Второй", (string)secondCustomer["name"]!);
    }

    [Fact]
    public async Task CancellingAnOrderTakesItOutOfTheStatistics()
    {
        var phone = TestPhones.New();
        await PostOrderAsync(new { customerPhone = phone, totalAmount = 300, status = "completed" });
        var order = await PostOrderAsync(new { customerPhone = phone, totalAmount = 700, status = "completed" });
        await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(phone), c => c is not null && (decimal)c["totalSpent"]! == 1000m, "1000 spent");

        var patch = await (await _client.PatchJsonAsync($"/api/orders/{order.Id}", new { status = "cancelled" })).ReadJsonAsync<OrderResponse>();
        await _client.JobAsync(patch.SyncJobId!);

        var customer = await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(phone), c => (decimal)c!["totalSpent"]! == 300m, "300 spent");
        Assert.Equal(1, (int)customer!["totalOrders"]!);
        Assert.Equal(300m, (decimal)customer["averageOrder"]!);
    }

    [Fact]
    public async Task ABurstOfWritesForOneCustomerCoalescesAndEndsExact()
    {
        var phone = TestPhones.New();
        var writes = await Task.WhenAll(Enumerable.Range(1, 50).Select(async i =>
        {
            var response = await factory.CreateClient().PostAsJsonAsync("/api/orders",
                new { customerName = "Серийный покупатель", customerPhone = phone, totalAmount = i, status = "completed" });
            Assert.True(HttpStatusCode.Created == response.StatusCode, await response.Content.ReadAsStringAsync());
            return await response.ReadJsonAsync<OrderResponse>();
        }));

        var jobIds = writes.Select(w => w.SyncJobId!).Distinct().ToList();
        foreach (var jobId in jobIds)
            await _client.JobAsync(jobId);

        // The last job saw the last write: 50 orders, 1 + 2 + ... + 50 = 1275.
        var customer = await _client.CustomerByPhoneAsync(phone);
        Assert.Equal(50, (int)customer!["totalOrders"]!);
        Assert.Equal(1275m, (decimal)customer["totalSpent"]!);
        Assert.Equal(25.50m, (decimal)customer["averageOrder"]!);
        Assert.Equal("vip", (string)customer["category"]!);
        Assert.True(jobIds.Count < 50, $"{jobIds.Count} jobs for 50 writes");

        await using var db = factory.CreateDbContext();
        var request = await db.CustomerSyncRequests.SingleAsync(r => r.Phone == phone);
        Assert.Equal(50, request.Version);
        Assert.Equal(50, request.SyncedVersion);
    }

    [Fact]
    public async Task WritesForManyCustomersShareJobsAndEveryCustomerEndsExact()
    {
        var phones = Enumerable.Range(0, 20).Select(_ => TestPhones.New()).ToArray();
        var next = -1;
        var writes = new System.Collections.Concurrent.ConcurrentBag<OrderResponse>();
        await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            var client = factory.CreateClient();
            for (var n = Interlocked.Increment(ref next); n < 200; n = Interlocked.Increment(ref next))
            {
                var response = await client.PostAsJsonAsync("/api/orders",
                    new { customerName = $"Покупатель {n % 20}", customerPhone = phones[n % 20], totalAmount = n, status = "completed" });
                Assert.Equal(HttpStatusCode.Created, response.StatusCode);
                writes.Add(await response.ReadJsonAsync<OrderResponse>());
            }
        }));

        var jobIds = writes.Select(w => w.SyncJobId!).Distinct().ToList();
        foreach (var jobId in jobIds)
            await _client.JobAsync(jobId);

        // Customer k got writes k, k + 20, ..., k + 180: 10 orders, 10k + 900 spent.
        for (var k = 0; k < 20; k++)
        {
            var customer = await _client.CustomerByPhoneAsync(phones[k]);
            Assert.Equal(10, (int)customer!["totalOrders"]!);
            Assert.Equal(10m * k + 900m, (decimal)customer["totalSpent"]!);
        }
        // Jobs are shared across customers, not one per customer or per write.
        Assert.True(jobIds.Count <= 50, $"{jobIds.Count} jobs for 200 writes");
        await using var db = factory.CreateDbContext();
        Assert.Equal(0, await db.CustomerSyncRequests.CountAsync(r => phones.Contains(r.Phone) && r.Version != r.SyncedVersion));
    }

    [Fact]
    public async Task AMovedOrderSyncsBothCustomersInOneJob()
    {
        var first = TestPhones.New();
        var second = TestPhones.New();
        var order = await PostOrderAsync(new { customerPhone = first, totalAmount = 100, status = "completed" });
        await _client.JobAsync(order.SyncJobId!);

        var patched = await (await _client.PatchJsonAsync($"/api/orders/{order.Id}", new { customerPhone = second })).ReadJsonAsync<OrderResponse>();

        Assert.Equal(patched.SyncJobId, patched.PreviousCustomerSyncJobId);
        await _client.JobAsync(patched.SyncJobId!);
        Assert.Equal(0, (int)(await _client.CustomerByPhoneAsync(first))!["totalOrders"]!);
        Assert.Equal(100m, (decimal)(await _client.CustomerByPhoneAsync(second))!["totalSpent"]!);
    }

    [Fact]
    public async Task TheSweeperSyncsAWriteWhoseJobWasNeverQueued()
    {
        // What a process that died between the order's commit and the enqueue leaves behind.
        var phone = TestPhones.New();
        await using (var db = factory.CreateDbContext())
        {
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                    delivery_address, total_amount, status, created_at, updated_at)
                VALUES ('Потерянный', {0}, {0}, '', '', '', 700, 'completed', now(), now());
                INSERT INTO customer_sync_requests (phone, version, synced_version, requested_at)
                VALUES ({0}, 1, 0, now() - interval '10 minutes');
                """, phone);
        }

        factory.Services.GetRequiredService<Hangfire.IRecurringJobManager>().Trigger(Crm.Jobs.Sync.SyncJobs.PendingSyncRecurringJobId);

        var customer = await Waiting.UntilAsync(() => _client.CustomerByPhoneAsync(phone), c => c is not null, "the swept customer");
        Assert.Equal("Потерянный", (string)customer!["name"]!);
        Assert.Equal(700m, (decimal)customer["totalSpent"]!);
    }

    [Fact]
    public async Task GettingAndPatchingUnknownOrdersIsNotFound()
    {
        await (await _client.GetAsync("/api/orders/987654321")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _client.PatchJsonAsync("/api/orders/987654321", new { status = "completed" })).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"customerPhone":"+79990001122"}""", "totalAmount")]
    [InlineData("""{"totalAmount":-1}""", "totalAmount")]
    [InlineData("""{"totalAmount":10000000000}""", "totalAmount")]
    [InlineData("""{"totalAmount":1.001}""", "totalAmount")]
    [InlineData("""{"totalAmount":"ten"}""", "totalAmount")]
    [InlineData("""{"totalAmount":10,"status":"shipped"}""", "status")]
    [InlineData("""{"totalAmount":10,"status":3}""", "status")]
    [InlineData("""{"totalAmount":10,"createdAt":"yesterday"}""", "createdAt")]
    [InlineData("""{"totalAmount":10,"createdAt":"2099-01-01T00:00:00Z"}""", "createdAt")]
    [InlineData("""{"totalAmount":10,"createdAt":"1999-12-31T00:00:00Z"}""", "createdAt")]
    [InlineData("""{"totalAmount":10,"customerName":"a\u0000b"}""", "customerName")]
    [InlineData("""{"totalAmount":10,"id":5}""", "id")]
    [InlineData("""{"totalAmount":10,"normalizedPhone":"+79990001122"}""", "normalizedPhone")]
    [InlineData("""{"totalAmount":10,"syncJobId":"1"}""", "syncJobId")]
    public async Task InvalidOrdersAreRejectedNamingTheFieldAndWriteNothing(string body, string field)
    {
        await using var db = factory.CreateDbContext();
        var before = await db.Orders.CountAsync();
        await (await _client.PostRawAsync("/api/orders", body)).AssertValidationErrorAsync(field);
        Assert.Equal(before, await db.Orders.CountAsync());
    }

    [Theory]
    [InlineData("?phone=12", "phone")]
    [InlineData("?status=shipped", "status")]
    [InlineData("?page=0", "page")]
    [InlineData("?pageSize=500", "pageSize")]
    public async Task InvalidOrderFiltersAreRejected(string query, string field) =>
        await (await _client.GetAsync("/api/orders" + query)).AssertValidationErrorAsync(field);

    [Fact]
    public async Task AnNdjsonImportLandsGoodLinesReportsBadOnesAndSyncsTheCustomersInOneJob()
    {
        var a = TestPhones.New();
        var b = TestPhones.New();
        var body = string.Join('\n',
            $$"""{"customerName":"Импорт А","customerPhone":"{{a}}","totalAmount":100,"status":"completed"}""",
            $$"""{"customerName":"Импорт А","customerPhone":"{{a}}","totalAmount":200,"status":"completed"}""",
            """{"customerName":"Broken","totalAmount":""",
            $$"""{"customerName":"Импорт Б","customerPhone":"{{b}}","totalAmount":-5}""",
            $$"""{"customerName":"Импорт Б","customerPhone":"{{b}}","totalAmount":50,"status":"cancelled"}""");

        var response = await _client.PostAsync("/api/orders/import", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));

        // Accepted like every other job trigger: the job's status URL in Location and in the body.
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var result = await response.ReadJsonAsync<ImportResponse>();
        Assert.Equal(3, result.Imported);
        Assert.Equal(2, result.Rejected);
        Assert.Equal([3L, 4L], result.Errors.Select(e => e.Line));
        var jobId = result.JobId!;
        Assert.Equal($"/api/jobs/{jobId}", response.Headers.Location?.OriginalString);
        Assert.Equal($"/api/jobs/{jobId}", result.StatusUrl);
        var job = await _client.JobAsync(jobId);
        Assert.Equal(2, (int)job["result"]!["createdCount"]!);

        var customerA = await _client.CustomerByPhoneAsync(a);
        Assert.Equal(300m, (decimal)customerA!["totalSpent"]!);
        var customerB = await _client.CustomerByPhoneAsync(b);
        Assert.Equal(0, (int)customerB!["totalOrders"]!);
        Assert.Equal("Импорт Б", (string)customerB["name"]!);
    }

    [Fact]
    public async Task ACsvImportReadsTheHeaderAndQuotedFields()
    {
        var phone = TestPhones.New();
        var body = "customerName,customerPhone,deliveryCity,deliveryAddress,totalAmount,status,createdAt\r\n" +
                   $"\"Орлов, Игорь\",{phone},Тула,\"ул. Мира, д. 1, кв. \"\"5\"\"\",1500.75,completed,2026-10-01T09:00:00Z\r\n";

        var response = await _client.PostAsync("/api/orders/import", new StringContent(body, Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var result = await response.ReadJsonAsync<ImportResponse>();
        Assert.Equal(1, result.Imported);
        await _client.JobAsync(result.JobId!);
        var customer = await _client.CustomerByPhoneAsync(phone);
        Assert.Equal("Орлов, Игорь", (string)customer!["name"]!);
        Assert.Equal("ул. Мира, д. 1, кв. \"5\"", (string)customer["address"]!);
        Assert.Equal(1500.75m, (decimal)customer["totalSpent"]!);
    }

    [Fact]
    public async Task AnImportInAnotherFormatIsUnsupportedMediaType()
    {
        var response = await _client.PostAsync("/api/orders/import", new StringContent("{}", Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task AnImportThatIsNotUtf8IsABadRequestAndWritesNothing()
    {
        await using var db = factory.CreateDbContext();
        var before = await db.Orders.CountAsync();
        var cp1251 = new byte[] { 0x7B, 0x22, 0x63, 0x75, 0x73, 0x74, 0x6F, 0x6D, 0x65, 0x72, 0x4E, 0x61, 0x6D, 0x65, 0x22, 0x3A, 0x22, 0xC8, 0xE2, 0xE0, 0xED, 0x22, 0x2C, 0x22, 0x74, 0x6F, 0x74, 0x61, 0x6C, 0x41, 0x6D, 0x6F, 0x75, 0x6E, 0x74, 0x22, 0x3A, 0x31, 0x7D };
        var content = new ByteArrayContent(cp1251);
        content.Headers.ContentType = new("application/x-ndjson");

        var response = await _client.PostAsync("/api/orders/import", content);

        await response.AssertValidationErrorAsync("body");
        Assert.Equal(before, await db.Orders.CountAsync());
    }
}
