using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// A full sync of a table with customers writes in chunks, each its own transaction, from
// orders it read before the first chunk. Order writes meanwhile have their customers synced
// between two chunks; the chunks after that must not put the older figures back.
public class ChunkedFullSyncTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    [Fact]
    public async Task AFullSyncRacingOrderWritesEndsExactForEveryCustomer()
    {
        var phones = Enumerable.Range(0, 300).Select(_ => TestPhones.New()).ToList();
        await db.AddOrdersInBulkAsync(phones, 2);
        await db.RunAsync(SyncMode.Default, new SyncScope.All());
        // Seven phones a chunk: some 45 transactions per full sync for order writes to slip between.
        var engine = db.CreateEngine(new SyncOptions { FullSyncChunkSize = 7 });

        SyncMode[] modes = [SyncMode.Default, SyncMode.Force, SyncMode.StatsOnly];
        var fullSyncs = Task.Run(async () =>
        {
            var counts = new List<SyncCounts>();
            for (var i = 0; i < 9; i++)
                counts.Add(await engine.RunAsync(modes[i % modes.Length], new SyncScope.All(), $"full-{i}", CancellationToken.None));
            return counts;
        });

        // Writes as the API makes them: the order and its customer's sync request in one
        // transaction, then the shared pending-writes sync.
        var random = new Random(42);
        var writes = 0;
        while (!fullSyncs.IsCompleted)
        {
            var phone = random.Next(10) == 0 ? TestPhones.New() : phones[random.Next(phones.Count)];
            await using (var connection = await db.DataSource.OpenConnectionAsync())
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                await using (var command = new Npgsql.NpgsqlCommand(random.Next(3) == 0
                    // Cancel one of the customer's completed orders, or add a big completed one.
                    ? """
                      UPDATE orders SET status = 'cancelled'
                      WHERE id = (SELECT id FROM orders WHERE normalized_phone = @phone AND status = 'completed' ORDER BY id LIMIT 1)
                      """
                    : """
                      INSERT INTO orders (customer_name, customer_phone, normalized_phone, total_amount, status, created_at, updated_at)
                      VALUES ('Гонка', @phone, @phone, @amount, 'completed', @now, @now)
                      """, connection, transaction))
                {
                    command.Parameters.AddWithValue("phone", phone);
                    command.Parameters.AddWithValue("amount", 1000m + random.Next(100_000));
                    command.Parameters.AddWithValue("now", db.Now.AddHours(-random.Next(1, 1000)));
                    await command.ExecuteNonQueryAsync();
                }
                await SyncScheduler.RecordAsync(connection, transaction, [phone], CancellationToken.None);
                await transaction.CommitAsync();
            }
            await engine.RunAsync(SyncMode.Auto, new SyncScope.Pending(), null, CancellationToken.None);
            if (!phones.Contains(phone))
                phones.Add(phone);
            writes++;
        }

        var counts = await fullSyncs;
        Assert.True(writes >= 20, $"only {writes} writes raced the full syncs");
        Assert.All(counts, c => Assert.Equal(0, c.ErrorCount));
        var wrong = await CustomerAudit.WrongCustomersAsync(db.ConnectionString, db.Now);
        Assert.True(wrong.Count == 0, $"{wrong.Count} customers differ from their orders after {writes} writes, e.g.:\n{string.Join('\n', wrong.Take(5))}");

        // Nothing left to do: a last full sync finds every customer exact.
        var last = await engine.RunAsync(SyncMode.Default, new SyncScope.All(), null, CancellationToken.None);
        Assert.Equal((0, 0, last.TotalCustomers), (last.CreatedCount, last.UpdatedCount, last.UnchangedCount));
    }
}
