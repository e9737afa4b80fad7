using Crm.Jobs;
using Npgsql;

namespace Crm.Tests.Data;

// A connection string naming a primary and its standby: the pools look at a host that was down
// or a standby again after 2 s, not Npgsql's 10 s, so a promoted standby takes writes within
// seconds; a single host, or a string that says how long, is left as it is.
public class HostRecheckTests
{
    private const string TwoHosts = "Host=db-1:5432,db-2:5432;Database=crm;Username=crm;Target Session Attributes=read-write";

    [Fact]
    public void EveryPoolOfATwoHostConnectionStringRechecksAfterTwoSeconds()
    {
        foreach (var pool in new[] { CrmJobsExtensions.FailFast(TwoHosts), CrmJobsExtensions.ForRequests(TwoHosts, TimeSpan.FromSeconds(2)) })
        {
            var built = new NpgsqlConnectionStringBuilder(pool);
            Assert.Equal(CrmJobsExtensions.FailoverHostRecheckSeconds, built.HostRecheckSeconds);
            Assert.Equal(2, built.HostRecheckSeconds);
            Assert.Equal("db-1:5432,db-2:5432", built.Host);
            Assert.Equal("read-write", built.TargetSessionAttributes, ignoreCase: true);
        }
    }

    [Theory]
    [InlineData("Host Recheck Seconds=30")]
    [InlineData("HostRecheckSeconds=30")]
    public void ATwoHostConnectionStringThatSaysHowLongKeepsIt(string setting)
    {
        Assert.Equal(30, new NpgsqlConnectionStringBuilder(CrmJobsExtensions.FailFast($"{TwoHosts};{setting}")).HostRecheckSeconds);
        Assert.Equal(30, new NpgsqlConnectionStringBuilder(
            CrmJobsExtensions.ForRequests($"{TwoHosts};{setting}", TimeSpan.FromSeconds(2))).HostRecheckSeconds);
    }

    [Fact]
    public void ASingleHostIsLeftAsItIs()
    {
        const string oneHost = "Host=db-1;Database=crm;Username=crm;Timeout=5";
        Assert.Equal(oneHost, CrmJobsExtensions.FailFast(oneHost));
        Assert.DoesNotContain("Recheck", CrmJobsExtensions.ForRequests(oneHost, TimeSpan.FromSeconds(2)), StringComparison.OrdinalIgnoreCase);
    }
}
