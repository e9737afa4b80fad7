using System.Net;
using System.Net.Http.Json;
using System.Text;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Security;

public class RateLimitTests(RateLimitTests.Factory factory) : IClassFixture<RateLimitTests.Factory>
{
    public sealed class Factory : CrmApiFactory
    {
        protected override int PermitsPerMinute => 5;
    }

    [Fact]
    public async Task AKeyOverItsBudgetGets429WithRetryAfterWhileOthersGoOn()
    {
        var reader = factory.CreateClient(TestKeys.Reader);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
            statuses.Add((await reader.GetAsync("/api/categories")).StatusCode);

        Assert.Equal(5, statuses.Count(s => s == HttpStatusCode.OK));
        var limited = await reader.GetAsync("/api/categories");
        await limited.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single()) is > 0 and <= 60);

        // Budgets are per key, and health checks are never limited.
        Assert.Equal(HttpStatusCode.OK, (await factory.CreateClient(TestKeys.Operator).GetAsync("/api/categories")).StatusCode);
        for (var i = 0; i < 10; i++)
            Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/health/live")).StatusCode);
    }
}

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

public class ProductionStartTests
{
    [Fact]
    public async Task ProductionRefusesToStartWithoutApiKeys()
    {
        var (exitCode, output) = await AppProcess.RunAsync(
            TestDatabase.ConnectionStringFor("postgres"), TimeSpan.FromMinutes(2), "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, exitCode);
        Assert.Contains("crm-minimal cannot start: No API keys are configured", output);
        Assert.DoesNotContain("   at ", output);
        Assert.Contains("Crm__Auth__ApiKeys__0__Key", output);
    }

    [Fact]
    public async Task ProductionRefusesToStartWithAPlaceholderKey()
    {
        var (exitCode, output) = await AppProcess.RunAsync(
            TestDatabase.ConnectionStringFor("postgres"), TimeSpan.FromMinutes(2), "--urls", "http://127.0.0.1:0",
            "--Crm:Auth:ApiKeys:0:Name=admin", "--Crm:Auth:ApiKeys:0:Key=admin-key-0123456789abcdef", "--Crm:Auth:ApiKeys:0:Roles=admin",
            "--Crm:Auth:ApiKeys:1:Name=reader", "--Crm:Auth:ApiKeys:1:Key=change-me-reader-key-0000", "--Crm:Auth:ApiKeys:1:Roles=reader");
        Assert.Equal(1, exitCode);
        Assert.Contains("crm-minimal cannot start: Invalid API key configuration: ", output);
        Assert.Contains("'reader'", output);
        Assert.Contains("placeholder", output);
        Assert.DoesNotContain("   at ", output);
    }
}
