using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// Auto-sync requests: per-customer runs mark what they have seen.
public class SyncRequestTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private DateTime Now => db.Now;

    [Fact]
    public async Task AutoRunMarksTheRequestSyncedUpToTheVersionRecordedBeforeIt()
    {
        var phone = TestPhones.New();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-1)));
        await db.RecordSyncRequestAsync(phone);
        await db.RecordSyncRequestAsync(phone);
        Assert.Equal((2L, 0L), await db.SyncRequestAsync(phone));

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        Assert.Equal((2L, 2L), await db.SyncRequestAsync(phone));
    }

    [Theory]
    [InlineData(SyncMode.Default)]
    [InlineData(SyncMode.Force)]
    [InlineData(SyncMode.StatsOnly)]
    public async Task OnlyAutoRunsMarkRequestsSynced(SyncMode mode)
    {
        var phone = TestPhones.New();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-1)));
        await db.RecordSyncRequestAsync(phone);

        await db.RunAsync(mode, SyncScope.Of(phone));

        Assert.Equal((1L, 0L), await db.SyncRequestAsync(phone));
    }

    [Fact]
    public async Task AutoRunOfAPhoneWithoutARequestCreatesNone()
    {
        var phone = TestPhones.New();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 10m, Now.AddDays(-1)));

        await db.RunAsync(SyncMode.Auto, SyncScope.Of(phone));

        Assert.Null(await db.SyncRequestAsync(phone));
        Assert.NotNull(await db.FindCustomerAsync(phone));
    }
}
