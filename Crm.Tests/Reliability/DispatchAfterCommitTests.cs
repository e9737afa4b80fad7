using System.Net;
using System.Net.Http.Json;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Reliability;

// A write is committed, then its sync job cannot be dispatched (in a failover, the database
// goes away between the two): the write is answered as done, never as a 503 that a client
// would retry into a second order, and the sync-pending sweeper syncs its customer.
public sealed class DispatchAfterCommitTests(DispatchAfterCommitTests.Factory factory) : IClassFixture<DispatchAfterCommitTests.Factory>
{
    public sealed class Factory : CrmApiFactory
    {
        public override bool UsesFakeClock => false;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            WithoutRecurringJobs(builder);
            // The sweeper takes requests this old: the test need not wait a minute.
            builder.UseSetting("Crm:Sync:PendingClaimTimeout", "00:00:01");
            builder.UseSetting("Crm:Sync:WriteBatchWindow", "00:00:00");
        }
    }

    [Fact]
    public async Task AWriteWhoseJobCannotBeDispatchedIsStillAnsweredAndSyncedByTheSweeper()
    {
        var client = factory.CreateClient();
        var phone = TestPhones.New();
        // The dispatch's table away: the claim after the commit fails, as on a server gone.
        await factory.ExecuteAsync("ALTER TABLE pending_sync_dispatch RENAME TO pending_sync_dispatch_away");
        HttpResponseMessage response;
        try
        {
            response = await client.PostAsJsonAsync("/api/orders",
                new { customerName = "После коммита", customerPhone = phone, totalAmount = 700, status = "completed" });
        }
        finally
        {
            await factory.ExecuteAsync("ALTER TABLE pending_sync_dispatch_away RENAME TO pending_sync_dispatch");
        }

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var order = await response.ReadJsonAsync();
        Assert.Null(order["syncJobId"]);
        await using (var db = factory.CreateDbContext())
            Assert.Equal(1, await db.Orders.CountAsync(o => o.Id == (long)order["id"]!));

        await Waiting.UntilAsync(async () =>
            {
                await using (var scope = factory.Services.CreateAsyncScope())
                    await scope.ServiceProvider.GetRequiredService<SyncJobs>().SweepPendingAsync(null, CancellationToken.None);
                await using var db = factory.CreateDbContext();
                return await db.Customers.Where(c => c.Phone == (string)order["normalizedPhone"]!).Select(c => c.TotalSpent).FirstOrDefaultAsync();
            },
            spent => spent == 700m, "the sweeper to sync the customer");
    }
}
