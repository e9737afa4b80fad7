using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Sync;

// One row the database refuses never stops the others: the phone is isolated, skipped,
// counted, recorded in sync_errors and retried on its own later; everything else commits.
public class FullSyncIsolationTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    [Fact]
    public async Task APoisonedPhoneNeitherStopsAFirstSyncNorAChunkedOne()
    {
        var phones = Enumerable.Range(0, 999).Select(_ => TestPhones.New()).ToArray();
        await db.AddOrdersInBulkAsync(phones, 2);
        await Poison.AddOrderAsync(db);

        // Into the empty table: one transaction, indexes built after the insert.
        var first = await db.RunAsync(SyncMode.Default, new SyncScope.All(), "first");
        Assert.Equal((999, 1, 999), (first.CreatedCount, first.ErrorCount, first.TotalCustomers));
        Assert.Empty(await CustomerAudit.WrongCustomersAsync(db.ConnectionString, db.Now, Poison.Phone));
        Assert.Equal(1, (await db.SyncRunAsync("first")).Errors);
        Assert.Equal(PostgresErrorCodes.CheckViolation, (await Poison.ErrorAsync(db))!.Value.SqlState);

        // Into a table with customers: in chunks of 100 phones, the poisoned one in one of them.
        await db.AddOrdersInBulkAsync(phones, 1);
        var engine = db.CreateEngine(new SyncOptions { FullSyncChunkSize = 100 });
        var chunked = await engine.RunAsync(SyncMode.Force, new SyncScope.All(), "chunked", CancellationToken.None);
        Assert.Equal((0, 999, 0, 1, 999), (chunked.CreatedCount, chunked.UpdatedCount, chunked.UnchangedCount, chunked.ErrorCount, chunked.TotalCustomers));
        Assert.Empty(await CustomerAudit.WrongCustomersAsync(db.ConnectionString, db.Now, Poison.Phone));
        var run = await db.SyncRunAsync("chunked");
        Assert.Equal(("succeeded", 1, 999), (run.Status, run.Errors, run.Updated));
        Assert.Equal(2, (await Poison.ErrorAsync(db))!.Value.Attempts);
    }
}
