using Crm.Jobs.Customers;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Sync;

// A run that fails for real (not the data of a few rows: the database itself refuses) on a database of its own.
public class FailedSyncTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    private DateTime Now => db.Now;

    [Fact]
    public async Task FailingRunChangesNothingAndRecordsAFailedSyncRun()
    {
        var (stale, missing, forbidden) = (TestPhones.New(), TestPhones.New(), TestPhones.New());
        await db.AddCustomerAsync(new Customer { Name = "Устаревший", Phone = stale, City = "Москва" });
        await db.AddCustomerAsync(new Customer { Name = "Запретный", Phone = forbidden, City = "Москва" });
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(stale, 100m, Now.AddDays(-1), name: "Новое Имя", city: "Казань"),
            SyncDatabase.OrderOf(missing, 200m, Now.AddDays(-1), name: "Новый"),
            SyncDatabase.OrderOf(forbidden, 300m, Now.AddDays(-1), city: "Запрет"));
        var rowsBefore = await db.CustomerRowVersionsAsync();
        await db.RefuseCityAsync("Запрет");
        var jobId = $"job-{Guid.NewGuid():N}";
        try
        {
            // Force updates existing customers after creating the missing one: both must roll back.
            var error = await Assert.ThrowsAsync<PostgresException>(
                () => db.RunAsync(SyncMode.Force, new SyncScope.All(), jobId));

            Assert.Equal(PostgresErrorCodes.RaiseException, error.SqlState);
            Assert.Null(await db.FindCustomerAsync(missing));
            Assert.Equal(rowsBefore, await db.CustomerRowVersionsAsync());
            var kept = await db.GetCustomerAsync(stale);
            Assert.Equal(("Устаревший", "Москва", 0, 0m), (kept.Name, kept.City, kept.TotalOrders, kept.TotalSpent));

            var run = await db.SyncRunAsync(jobId);
            Assert.Equal(("force", "failed", 1), (run.Mode, run.Status, run.Errors));
            Assert.Equal(Now, run.FinishedAt);
            Assert.True(run.DurationMs >= 0);
            // What happened, not the trigger's text (FailureText).
            Assert.Equal("A database trigger refused the statement (P0001)", run.Error);
        }
        finally
        {
            await db.AllowCitiesAgainAsync();
        }

        // The same run succeeds once the cause is gone: the failure left nothing in its way.
        var counts = await db.RunAsync(SyncMode.Force, new SyncScope.All());
        Assert.Equal(new SyncCounts(1, 2, 0, 0, 0, 3, counts.DurationMs, counts.RunId), counts);
        Assert.Equal("Запрет", (await db.GetCustomerAsync(forbidden)).City);
    }

    // An exception's text may name a host, a constraint and the customer's phone: the run
    // row (and the sync.failed webhook made from it) says only what happened.
    [Fact]
    public async Task AFailedRunStoresWhatHappenedNotTheExceptionsText()
    {
        var phone = TestPhones.New();
        await db.AddOrdersAsync(SyncDatabase.OrderOf(phone, 100m, Now.AddDays(-1), city: "Отказ"));
        await db.ExecuteAsync(Poison.LoudRefusalSql);
        var jobId = $"job-{Guid.NewGuid():N}";
        try
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => db.RunAsync(SyncMode.Force, new SyncScope.Phones([phone]), jobId));
            Assert.Contains(phone, error.MessageText); // the raw text, which the log keeps
        }
        finally
        {
            // The order goes too: the other test counts what a sync of all orders creates.
            await db.ExecuteAsync($"DROP TRIGGER test_refuse_loudly ON customers; DROP FUNCTION test_refuse_loudly(); DELETE FROM orders WHERE normalized_phone = '{phone}'");
        }

        var run = await db.SyncRunAsync(jobId);
        Assert.Equal("failed", run.Status);
        Assert.Equal("A database trigger refused the statement (P0001)", run.Error);
        foreach (var raw in new[] { phone, phone[1..], "ck_secret_rule", "db-7.internal.example", "test_refuse_loudly" })
            Assert.DoesNotContain(raw, run.Error);
    }
}
