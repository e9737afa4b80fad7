using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Reliability;

// The pending-changes sync (after an import) records what it has seen with one UPDATE over
// many customer_sync_requests rows, in whatever order the plan visits them. Writers lock the
// same rows in phone order (imports, an order moving from one phone to another). Row locks
// taken in two different orders can deadlock.
public class PendingSyncLockOrderTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    [Fact]
    public async Task APendingSyncAndAWriterLockingRequestsInPhoneOrderDoNotDeadlock()
    {
        const string a = "+79983000001", b = "+79983000002";
        await using (var db = factory.CreateDbContext())
        {
            // B's request row is stored before A's, so a scan meets B first.
            await db.Database.ExecuteSqlRawAsync($"""
                INSERT INTO orders (customer_name, customer_phone, normalized_phone, total_amount, status, created_at, updated_at)
                VALUES ('А', '{a}', '{a}', 10, 'completed', now(), now()), ('Б', '{b}', '{b}', 20, 'completed', now(), now());
                INSERT INTO customer_sync_requests (phone, version, synced_version, requested_at) VALUES ('{b}', 1, 0, now());
                INSERT INTO customer_sync_requests (phone, version, synced_version, requested_at) VALUES ('{a}', 1, 0, now());
                """);
        }

        // A writer in phone order: A now, B in a moment (as RecordAsync's sorted upsert does within one statement).
        await using var writer = new NpgsqlConnection(factory.ConnectionString);
        await writer.OpenAsync();
        await using var transaction = await writer.BeginTransactionAsync();
        await using (var first = new NpgsqlCommand($"UPDATE customer_sync_requests SET version = version + 1 WHERE phone = '{a}'", writer, transaction))
            await first.ExecuteNonQueryAsync();

        string jobId;
        await using (var scope = factory.Services.CreateAsyncScope())
            jobId = scope.ServiceProvider.GetRequiredService<SyncScheduler>().EnqueuePendingSync("lock order test");
        await Waiting.UntilAsync(async () =>
        {
            await using var probe = new NpgsqlCommand("""
                SELECT EXISTS (SELECT 1 FROM pg_locks w
                               JOIN pg_locks h ON h.locktype = 'transactionid' AND h.transactionid = w.transactionid AND h.pid = pg_backend_pid()
                               WHERE w.locktype = 'transactionid' AND NOT w.granted AND w.pid <> pg_backend_pid())
                """, writer, transaction);
            return (bool)(await probe.ExecuteScalarAsync())!;
        }, waiting => waiting, "the pending sync to wait for the writer's row");

        // Now the writer wants B: it must wait for the sync to commit, not deadlock with it.
        Exception? writerError = null;
        try
        {
            await using var second = new NpgsqlCommand($"UPDATE customer_sync_requests SET version = version + 1 WHERE phone = '{b}'", writer, transaction)
            {
                CommandTimeout = 60,
            };
            await second.ExecuteNonQueryAsync();
            await transaction.CommitAsync();
        }
        catch (PostgresException e)
        {
            writerError = e;
        }

        var job = await factory.CreateClient().JobAsync(jobId);
        Assert.Null(writerError);
        Assert.Equal(0, (int)job["retryCount"]!);
        await using var check = factory.CreateDbContext();
        Assert.DoesNotContain(await check.SyncRuns.AsNoTracking().Select(r => r.Status).ToListAsync(), s => s != SyncRunStatus.Succeeded);
    }
}
