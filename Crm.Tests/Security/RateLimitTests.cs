using System.Net;
using Crm.Tests.Infrastructure;

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
