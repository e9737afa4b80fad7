using Crm.Tests.Infrastructure;

namespace Crm.Tests.Security;

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

    // The erasure tombstones' key: without it, erased people could come back (docs/PRIVACY.md).
    [Theory]
    [InlineData("", "Crm:Privacy:HashKey is not set")]
    [InlineData("too-short-key", "Crm:Privacy:HashKey must have at least 32 characters")]
    public async Task ProductionRefusesToStartWithoutAPrivacyHashKey(string key, string message)
    {
        var (exitCode, output) = await AppProcess.RunAsync(
            TestDatabase.ConnectionStringFor("postgres"), TimeSpan.FromMinutes(2), "--urls", "http://127.0.0.1:0",
            "--Crm:Auth:ApiKeys:0:Name=admin", "--Crm:Auth:ApiKeys:0:Key=admin-key-0123456789abcdef", "--Crm:Auth:ApiKeys:0:Roles=admin",
            $"--Crm:Privacy:HashKey={key}");
        Assert.Equal(1, exitCode);
        Assert.Contains(message, output);
        Assert.DoesNotContain("   at ", output);
    }
}
