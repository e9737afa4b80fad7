using System.Net;
using System.Net.Http.Json;
using System.Text;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Tests.Orders;

// Every order says where it came from (api, import, shop) and, for the shop's, its id
// there; the shop's orders are read-only through the API, and a shop id is one order.
public class OrderSourceTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task AnOrderWrittenThroughTheApiSaysSo()
    {
        var created = await (await _client.PostAsJsonAsync("/api/orders",
            new { customerPhone = "+79991110001", totalAmount = 10, status = "completed" })).ReadJsonAsync();
        Assert.Equal("api", (string)created["source"]!);
        Assert.Null(created["sourceId"]);

        var read = await (await _client.GetAsync($"/api/orders/{(long)created["id"]!}")).ReadJsonAsync();
        Assert.Equal("api", (string)read["source"]!);
    }

    [Fact]
    public async Task AnImportedOrderSaysSo()
    {
        var body = """{"customerPhone": "+79991110002", "totalAmount": 20, "status": "completed"}""" + "\n";
        var response = await _client.PostAsync("/api/orders/import", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        var page = await (await _client.GetAsync("/api/orders?phone=%2B79991110002")).ReadJsonAsync();
        var order = Assert.Single(page["items"]!.AsArray());
        Assert.Equal("import", (string)order!["source"]!);
        Assert.Null(order["sourceId"]);
    }

    [Fact]
    public async Task TheShopsOrderIsReadOnlyAndOneRowPerShopId()
    {
        await using var db = factory.CreateDbContext();
        var id = await db.Database.SqlQueryRaw<long>("""
            INSERT INTO orders (customer_phone, normalized_phone, total_amount, status, source, source_id)
            VALUES ('+79991110003', '+79991110003', 30, 'completed', 'shop', '42')
            RETURNING id AS "Value"
            """).ToListAsync();

        var read = await (await _client.GetAsync($"/api/orders/{id[0]}")).ReadJsonAsync();
        Assert.Equal(("shop", "42"), ((string)read["source"]!, (string)read["sourceId"]!));

        var patch = await _client.PatchAsJsonAsync($"/api/orders/{id[0]}", new { totalAmount = 99 });
        var problem = await patch.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("shop", (string)problem["title"]!);
        Assert.Equal(30m, (decimal)(await (await _client.GetAsync($"/api/orders/{id[0]}")).ReadJsonAsync())["totalAmount"]!);

        var again = await Assert.ThrowsAsync<PostgresException>(() => db.Database.ExecuteSqlRawAsync("""
            INSERT INTO orders (customer_phone, total_amount, source, source_id) VALUES ('', 1, 'shop', '42')
            """));
        Assert.Equal(PostgresErrorCodes.UniqueViolation, again.SqlState);
    }
}
