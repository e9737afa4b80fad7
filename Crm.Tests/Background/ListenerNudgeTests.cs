using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Npgsql;

namespace Crm.Tests.Background;

// A process with job servers sends `NOTIFY new_job` on its own, every
// Crm:Jobs:ListenerNudgeInterval, so a queue listener stuck in Hangfire.PostgreSql's long
// polling is woken without waiting for the next enqueue (see ListenerNudge).
public class ListenerNudgeTests(ListenerNudgeTests.QuietFactory factory) : IClassFixture<ListenerNudgeTests.QuietFactory>
{
    // No recurring job can enqueue (and so notify) while the test listens: only the nudge does.
    public sealed class QuietFactory : CrmApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            WithoutRecurringJobs(builder);
            builder.UseSetting("Crm:Jobs:ListenerNudgeInterval", "00:00:00.5");
        }
    }

    [Fact]
    public async Task TheJobServersNotifyTheQueueListenersWithoutAnyEnqueue()
    {
        _ = factory.Services; // starts the host and its job servers
        await using var listener = new NpgsqlConnection(factory.ConnectionString);
        await listener.OpenAsync();
        var notifications = 0;
        listener.Notification += (_, e) =>
        {
            if (e.Channel == "new_job")
                Interlocked.Increment(ref notifications);
        };
        await using (var listen = new NpgsqlCommand("LISTEN new_job", listener))
            await listen.ExecuteNonQueryAsync();

        // The synchronous Wait with a timeout returns on its own; no cancellation involved.
        var deadline = DateTime.UtcNow + Waiting.Deadline;
        while (Volatile.Read(ref notifications) < 3 && DateTime.UtcNow < deadline)
            await Task.Run(() => listener.Wait(1000));

        Assert.True(Volatile.Read(ref notifications) >= 3, $"{notifications} notifications before the deadline");
    }
}
