using Crm.Tests.Infrastructure;

namespace Crm.Tests.Host;

public class InvalidRoleTests
{
    private const string Unreachable = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2";

    [Fact]
    public async Task AnUnknownRoleFailsTheStartWithAMessageNamingTheSetting()
    {
        var (exitCode, output) = await AppProcess.RunAsync(Unreachable, TimeSpan.FromMinutes(2),
            "--urls", "http://127.0.0.1:0", "--Crm:Role", "chef");

        Assert.Equal(1, exitCode);
        Assert.Contains("crm-minimal cannot start: Crm:Role 'chef' is not one of: all, api, worker.", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task TheRoleSwitchOnTheCommandLineIsReadAsCrmRole()
    {
        // migrate parses no flags, so only the `--role` mapping can make this fail on Crm:Role.
        var (exitCode, output) = await AppProcess.RunAsync(Unreachable, TimeSpan.FromMinutes(2), "migrate", "--role", "chef");

        Assert.Equal(1, exitCode);
        Assert.Contains("Crm:Role 'chef' is not one of: all, api, worker.", output);
        Assert.DoesNotContain("   at ", output);
    }
}
