using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Sync;

// One row the database refuses never stops the others: the phone is isolated, skipped,
// counted, recorded in sync_errors and retried on its own later; everything else commits.
public class PendingIsolationTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    [Fact]
    public async Task APoisonedPhoneAmongAThousandPendingOnesIsSkippedReportedAndRetriedLater()
    {
        var phones = Enumerable.Range(0, 999).Select(_ => TestPhones.New()).ToArray();
        await db.AddOrdersInBulkAsync(phones, 3);
        await Poison.AddOrderAsync(db);
        await db.RecordSyncRequestAsync([.. phones, Poison.Phone]);
        var jobId = $"job-{Guid.NewGuid():N}";

        var counts = await db.RunAsync(SyncMode.Auto, new SyncScope.Pending(), jobId);

        Assert.Equal((999, 0, 0, 1, 999), (counts.CreatedCount, counts.UpdatedCount, counts.UnchangedCount, counts.ErrorCount, counts.TotalCustomers));
        Assert.Empty(await CustomerAudit.WrongCustomersAsync(db.ConnectionString, db.Now, Poison.Phone));
        Assert.Null(await db.FindCustomerAsync(Poison.Phone));
        var run = await db.SyncRunAsync(jobId);
        Assert.Equal(("succeeded", 1), (run.Status, run.Errors));
        Assert.Contains("1 customer(s) could not be written", run.Error);
        Assert.Contains("A database constraint refused a row (23514)", run.Error);
        Assert.DoesNotContain("ck_customers_phone_e164", run.Error);
        var error = Assert.NotNull(await Poison.ErrorAsync(db));
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.Equal("A database constraint refused a row (23514)", error.Error);
        Assert.Equal(1, error.Attempts);
        // The others' requests are seen; the poisoned one's stays pending for its retry.
        Assert.Equal(1, (await db.SyncRequestAsync(phones[0]))!.Value.SyncedVersion);
        Assert.Equal((1L, 0L), (await db.SyncRequestAsync(Poison.Phone))!.Value);

        // Before its retry time the phone is left alone: the next batch does not pay for it.
        var quiet = await db.RunAsync(SyncMode.Auto, new SyncScope.Pending());
        Assert.Equal((0, 0), (quiet.ErrorCount, quiet.TotalCustomers));

        // After it, the phone is tried again on its own, and waits twice as long.
        db.Clock.Advance(error.RetryAt - db.Now + TimeSpan.FromSeconds(1));
        var retried = await db.RunAsync(SyncMode.Auto, new SyncScope.Pending());
        Assert.Equal(1, retried.ErrorCount);
        var again = Assert.NotNull(await Poison.ErrorAsync(db));
        Assert.Equal(2, again.Attempts);
        Assert.Equal(TimeSpan.FromMinutes(2), again.RetryAt - db.Now);

        // A newer write of the phone (the shop corrects the order) retries it at once; once
        // it syncs, its error is gone.
        await db.ExecuteAsync($"UPDATE orders SET normalized_phone = '+4930123456789' WHERE normalized_phone = '{Poison.Phone}'");
        await db.RecordSyncRequestAsync(Poison.Phone, "+4930123456789");
        var fixedRun = await db.RunAsync(SyncMode.Auto, new SyncScope.Pending());
        Assert.Equal((1, 0), (fixedRun.CreatedCount, fixedRun.ErrorCount));
        Assert.Null(await Poison.ErrorAsync(db));
        Assert.Empty(await CustomerAudit.WrongCustomersAsync(db.ConnectionString, db.Now));
    }
}
