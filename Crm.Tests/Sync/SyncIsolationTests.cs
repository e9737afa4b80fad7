using Crm.Jobs.Customers;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Sync;

// One row the database refuses never stops the others: the phone is isolated, skipped,
// counted, recorded in sync_errors and retried on its own later; everything else commits.
// The poison is an order written straight into the table (as an older version of the
// importer or the shop's own database could) whose 17-digit "possible" phone the
// customers table's E.164 check refuses.
public static class Poison
{
    public const string Phone = "+49301234567890123";

    public static Task AddOrderAsync(SyncDatabase db) =>
        db.AddOrdersAsync(SyncDatabase.OrderOf(Phone, 500m, db.Now.AddDays(-2), name: "Слишком длинный"));

    public static async Task<(string SqlState, string Error, int Attempts, DateTime RetryAt, long? RunId)?> ErrorAsync(SyncDatabase db)
    {
        await using var command = db.DataSource.CreateCommand(
            "SELECT sql_state, error, attempts, retry_at, run_id FROM sync_errors WHERE phone = @phone");
        command.Parameters.AddWithValue("phone", Phone);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
            return null;
        return (reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetDateTime(3),
            reader.IsDBNull(4) ? null : reader.GetInt64(4));
    }
}

public class PendingIsolationTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    [Fact]
    public async Task APoisonedPhoneAmongAThousandPendingOnesIsSkippedReportedAndRetriedLater()
    {
        var phones = Enumerable.Range(0, 999).Select(_ => SyncDatabase.NewPhone()).ToArray();
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
        Assert.Contains(Poison.Phone, run.Error);
        var error = Assert.NotNull(await Poison.ErrorAsync(db));
        Assert.Equal(PostgresErrorCodes.CheckViolation, error.SqlState);
        Assert.Contains("ck_customers_phone_e164", error.Error);
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

// Past 5 000 phones a pending batch is planned as bulk work: temp tables, hash joins, and
// when the batch is most of the customers (an import of new phones), one pass over all
// orders in phone order, as a full sync reads them.
public class LargePendingBatchTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    [Fact]
    public async Task AnImportSizedBatchIsExactAndIsolatesItsPoisonedPhone()
    {
        var phones = Enumerable.Range(0, 6_000).Select(_ => SyncDatabase.NewPhone()).ToArray();
        await db.AddOrdersInBulkAsync(phones, 2);
        await Poison.AddOrderAsync(db);
        await db.RecordSyncRequestAsync([.. phones, Poison.Phone]);

        var counts = await db.RunAsync(SyncMode.Auto, new SyncScope.Pending());

        Assert.Equal((6_000, 1, 6_000), (counts.CreatedCount, counts.ErrorCount, counts.TotalCustomers));
        Assert.Empty(await CustomerAudit.WrongCustomersAsync(db.ConnectionString, db.Now, Poison.Phone));
        Assert.Equal(1, (await db.SyncRequestAsync(phones[^1]))!.Value.SyncedVersion);
        Assert.Equal(0, (await db.SyncRequestAsync(Poison.Phone))!.Value.SyncedVersion);

        // A second batch of the same size over the 6 000 customers: changed statistics for all.
        await db.AddOrdersInBulkAsync(phones, 1);
        await db.RecordSyncRequestAsync(phones);
        var again = await db.RunAsync(SyncMode.Auto, new SyncScope.Pending());
        Assert.Equal((0, 6_000, 0), (again.CreatedCount, again.UpdatedCount, again.ErrorCount));
        Assert.Empty(await CustomerAudit.WrongCustomersAsync(db.ConnectionString, db.Now, Poison.Phone));
    }
}

public class FullSyncIsolationTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    [Fact]
    public async Task APoisonedPhoneNeitherStopsAFirstSyncNorAChunkedOne()
    {
        var phones = Enumerable.Range(0, 999).Select(_ => SyncDatabase.NewPhone()).ToArray();
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

// What passes the API fits the columns: the documented maximum amount, many times over.
public class ExtremeValuesTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    [Fact]
    public async Task ManyOrdersOfTheLargestAmountSumWithoutOverflow()
    {
        var phone = SyncDatabase.NewPhone();
        await db.AddCompletedOrdersAsync(phone, 3, 9_999_999_999.99m, db.Now.AddDays(-1));

        var counts = await db.RunAsync(SyncMode.Default, SyncScope.Of(phone));

        Assert.Equal((1, 0), (counts.CreatedCount, counts.ErrorCount));
        var customer = await db.GetCustomerAsync(phone);
        Assert.Equal((29_999_999_999.97m, 9_999_999_999.99m, CustomerCategory.Vip),
            (customer.TotalSpent, customer.AverageOrder, customer.Category));
    }
}
