using System.Net;
using System.Text;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Security;

public class BodyLimitTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    [Fact]
    public async Task ABodyOverOneMegabyteIs413AndWritesNothing()
    {
        var huge = new string('я', 700_000); // 1.4 MB in UTF-8
        var response = await factory.CreateClient().PostAsync("/api/customers", new StringContent(
            $$"""{"name":"Большой","phone":"+79990001100","notes":"{{huge}}"}""", Encoding.UTF8, "application/json"));

        await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        await using var db = factory.CreateDbContext();
        Assert.False(await db.Customers.AnyAsync(c => c.Phone == "+79990001100"));
    }

    [Fact]
    public async Task TheStreamedImportTakesLargerBodies()
    {
        var lines = string.Join('\n', Enumerable.Range(0, 20_000).Select(i =>
            $$"""{"customerName":"Оптовый покупатель","customerPhone":"+7995{{i % 500:D7}}","totalAmount":{{i % 100}},"status":"completed"}"""));
        Assert.True(Encoding.UTF8.GetByteCount(lines) > 2_000_000);

        var response = await factory.CreateClient().PostAsync("/api/orders/import",
            new StringContent(lines, Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(20_000, (int)(await response.ReadJsonAsync())["imported"]!);
    }
}
