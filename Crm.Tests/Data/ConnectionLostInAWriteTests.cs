using System.Data.Common;
using Crm.Jobs.Data;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;

namespace Crm.Tests.Data;

// A write's session ends (its server killed in a failover) right after SaveChanges, inside the
// write's transaction, as an order write does it (SyncScheduler.SaveAndSyncAsync): the failure
// must say the database went away (a 503), not "Transaction is already completed" (a 500).
// EF Core's savepoint around SaveChanges turned it into the latter: its RELEASE failed on the
// dead session and EF Core ignored that.
public class ConnectionLostInAWriteTests
{
    [Fact]
    public async Task ASessionEndedRightAfterSaveChangesIsReportedAsTheDatabaseGoingAway()
    {
        var name = await TestDatabase.CreateAsync();
        try
        {
            var connectionString = TestDatabase.ConnectionStringFor(name);
            var options = new DbContextOptionsBuilder<CrmDbContext>();
            CrmDbContext.Configure(options, connectionString);
            options.AddInterceptors(new EndSessionAfterInsert(connectionString));
            var phone = TestPhones.New();

            var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var db = new CrmDbContext(options.Options);
                await using var transaction = await db.Database.BeginTransactionAsync();
                db.Orders.Add(new Order
                {
                    CustomerName = "Клиент", CustomerPhone = phone, NormalizedPhone = phone, TotalAmount = 10,
                    Status = OrderStatus.Completed, CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
                });
                await db.SaveChangesAsync();
                await SyncScheduler.RecordAsync(db, [phone], CancellationToken.None);
                await transaction.CommitAsync();
            });

            Assert.True(DatabaseUnavailable.IsAnywhereIn(failure), failure.ToString());
            await using var check = new NpgsqlConnection(connectionString);
            await check.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM orders", check);
            Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            await TestDatabase.DropAsync(name);
        }
    }

    // Once the INSERT's rows are read: the session is terminated from another one, and the
    // terminate waits until it has ended.
    private sealed class EndSessionAfterInsert(string connectionString) : DbCommandInterceptor
    {
        public override InterceptionResult DataReaderClosing(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
        {
            EndSessionOf(command);
            return result;
        }

        public override ValueTask<InterceptionResult> DataReaderClosingAsync(
            DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
        {
            EndSessionOf(command);
            return ValueTask.FromResult(result);
        }

        private void EndSessionOf(DbCommand command)
        {
            if (!command.CommandText.Contains("INSERT INTO orders", StringComparison.Ordinal))
                return;
            using var other = new NpgsqlConnection(connectionString);
            other.Open();
            using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid, 10000)", other);
            terminate.Parameters.AddWithValue("pid", ((NpgsqlConnection)command.Connection!).ProcessID);
            Assert.True((bool)terminate.ExecuteScalar()!);
        }
    }
}
