using System.Net.Http.Json;
using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Ledger;

// GET /api/customers/{id} explains the category with the rule that decided it (stored by the
// sync beside the category) and the configured thresholds: every rule after a real full sync.
public class CategoryReasonTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private DateTime Now => factory.Clock.GetUtcNow().UtcDateTime;

    // Straight into the table, as the shop writing around the API would: only a sync sees them.
    private async Task<string> AddOrdersAsync(int count, decimal amount, DateTime newest, OrderStatus status = OrderStatus.Completed)
    {
        var phone = TestPhones.New();
        await using var db = factory.CreateDbContext();
        for (var i = 0; i < count; i++)
        {
            db.Orders.Add(new Order
            {
                CustomerName = "Клиент", CustomerPhone = phone, NormalizedPhone = phone, TotalAmount = amount, Status = status,
                CreatedAt = newest.AddDays(-i), UpdatedAt = newest,
            });
        }
        await db.SaveChangesAsync();
        return phone;
    }

    [Fact]
    public async Task EveryRuleExplainsTheCategoryItDecided()
    {
        var cases = new (string Phone, CategoryRule Rule, string Text)[]
        {
            (await AddOrdersAsync(1, 500m, Now.AddDays(-1), OrderStatus.Processing), CategoryRule.NoCompletedOrders, "new: no completed orders"),
            (await AddOrdersAsync(3, 500m, new DateTime(2026, 4, 1, 12, 0, 0, DateTimeKind.Utc)), CategoryRule.Inactive,
                "inactive: last order 2026-04-01, more than 180 days ago"),
            (await AddOrdersAsync(12, 100m, Now.AddDays(-1)), CategoryRule.VipByOrders, "vip: 12 completed orders ≥ 10"),
            (await AddOrdersAsync(2, 75_000.50m, Now.AddDays(-1)), CategoryRule.VipBySpent, "vip: 150001 spent ≥ 100000"),
            (await AddOrdersAsync(4, 100m, Now.AddDays(-1)), CategoryRule.Regular, "regular: 4 completed orders ≥ 3"),
            (await AddOrdersAsync(1, 100m, Now.AddDays(-1)), CategoryRule.New, "new: 1 completed order < 3"),
        };

        var sync = await (await _client.PostAsJsonAsync("/api/sync", new { mode = "default" })).ReadJsonAsync();
        await _client.JobAsync((string)sync["jobId"]!);

        foreach (var (phone, rule, text) in cases)
        {
            var listed = (await _client.CustomerByPhoneAsync(phone))!;
            var customer = await (await _client.GetAsync($"/api/customers/{listed["id"]}")).ReadJsonAsync();
            var reason = customer["categoryReason"]!;
            Assert.Equal((EnumText.ToText(rule), text), ((string)reason["rule"]!, (string)reason["text"]!));
            Assert.Equal(EnumText.ToText(CategoryRules.CategoryOf(rule)), (string)customer["category"]!);
            // Lists stay plain projections of the stored columns.
            Assert.False(listed.AsObject().ContainsKey("categoryReason"));
        }
    }

    // The explanation uses the thresholds configured now, and says so in its numbers.
    [Fact]
    public async Task TheExplanationUsesTheConfiguredThresholds()
    {
        await using var tuned = factory.WithWebHostBuilder(host => host.UseSetting("Crm:Categories:RegularMinOrders", "2"));
        var client = tuned.CreateClient();
        var phone = await AddOrdersAsync(2, 100m, Now.AddDays(-1));
        await using (var scope = tuned.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<SyncEngine>().RunAsync(SyncMode.Default, SyncScope.Of(phone), null, CancellationToken.None);

        var id = (await client.CustomerByPhoneAsync(phone))!["id"];
        var customer = await (await client.GetAsync($"/api/customers/{id}")).ReadJsonAsync();

        Assert.Equal(("regular", "regular: 2 completed orders ≥ 2"),
            ((string)customer["category"]!, (string)customer["categoryReason"]!["text"]!));
    }
}
