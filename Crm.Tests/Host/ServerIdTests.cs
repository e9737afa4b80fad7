namespace Crm.Tests.Host;

// Readiness finds this process's job servers by Hangfire's server ids, which Hangfire
// lower-cases: a host named with capitals must still find its own.
public class ServerIdTests
{
    [Theory]
    [InlineData("myhost-default:4242:0f4c2a", "MyHost", 4242, true)]
    [InlineData("myhost-bulk:4242:0f4c2a", "myhost", 4242, true)]
    [InlineData("myhost-default:4243:0f4c2a", "MyHost", 4242, false)]
    [InlineData("otherhost-default:4242:0f4c2a", "MyHost", 4242, false)]
    public void AServerIsThisProcessWhateverTheCaseOfTheMachineName(string serverId, string machine, int pid, bool mine) =>
        Assert.Equal(mine, Crm.Api.Health.HangfireHealthCheck.IsServerOf(serverId, machine, pid));
}
