using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Sync;

// The first sync into an empty customers table builds the secondary indexes after its insert,
// without ever making a reader wait for the sync: reads answer at once while it runs, and
// every index is back (with the same definition) once it finished — also after a crash
// between the drop and the rebuild.
public class FirstSyncReadersTests(RealClockCrmApiFactory factory) : IClassFixture<RealClockCrmApiFactory>
{
    private const long HoldKey = 0x7465_7374_0001;

    [Fact]
    public async Task ReadersDoNotWaitWhileTheFirstSyncHoldsItsTransactionOpen()
    {
        await using var db = factory.CreateDbContext();
        var before = await IndexDefinitionsAsync();
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, total_amount, status, created_at, updated_at)
            SELECT 'Покупатель ' || (i % 500), '+7997' || lpad((i % 500)::text, 7, '0'), '+7997' || lpad((i % 500)::text, 7, '0'),
                   100 + i % 50, 'completed', now() - make_interval(days => i % 100), now()
            FROM generate_series(1, 5000) AS i
            """);

        // The sync's insert waits, inside its transaction, for a lock this connection holds.
        await using var holder = new NpgsqlConnection(factory.ConnectionString);
        await holder.OpenAsync();
        await ExecuteAsync(holder, $"SELECT pg_advisory_lock({HoldKey})");
        await db.Database.ExecuteSqlRawAsync($$"""
            CREATE FUNCTION test_hold_insert() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN
                PERFORM pg_advisory_xact_lock_shared({{HoldKey}});
                RETURN NULL;
            END $f$;
            CREATE TRIGGER test_hold_insert AFTER INSERT ON customers FOR EACH STATEMENT EXECUTE FUNCTION test_hold_insert();
            """);
        try
        {
            var client = factory.CreateClient();
            var accepted = await client.PostAsJsonAsync("/api/sync", new { mode = "default" });
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            var jobId = (string)(await accepted.ReadJsonAsync())["jobId"]!;
            await Waiting.UntilAsync(() => WaitingForAsync(holder), waiting => waiting, "the sync to wait inside its insert");

            // Readers are not held up: the list, a search and a sorted list answer at once...
            foreach (var path in new[] { "/api/customers", "/api/customers?search=Покупатель", "/api/customers?ordering=-total_spent" })
            {
                var watch = Stopwatch.StartNew();
                var response = await client.GetAsync(path);
                watch.Stop();
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"GET {path} took {watch.Elapsed} during the first sync");
            }
            // ...while the sync's transaction is open and its indexes are deferred.
            Assert.Equal(before.Count - 2, await ScalarAsync<long>(holder, "SELECT count(*) FROM deferred_indexes"));

            await ExecuteAsync(holder, $"SELECT pg_advisory_unlock({HoldKey})");
            await client.JobAsync(jobId);
        }
        finally
        {
            await ExecuteAsync(holder, $"SELECT pg_advisory_unlock_all(); DROP TRIGGER IF EXISTS test_hold_insert ON customers; DROP FUNCTION IF EXISTS test_hold_insert()");
        }

        Assert.Equal(500, await db.Customers.CountAsync());
        Assert.Equal(before, await IndexDefinitionsAsync());
        Assert.Equal(0, await db.Database.SqlQueryRaw<long>("SELECT count(*) AS \"Value\" FROM deferred_indexes").SingleAsync());
    }

    [Fact]
    public async Task AnIndexLeftDroppedByACrashIsRebuiltByTheNextFullSync()
    {
        var before = await IndexDefinitionsAsync();
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        // What a process killed between the drop and the rebuild leaves behind.
        await ExecuteAsync(connection, """
            BEGIN;
            INSERT INTO deferred_indexes (name, definition)
            SELECT 'public.ix_customers_name_id', pg_get_indexdef('ix_customers_name_id'::regclass);
            DROP INDEX ix_customers_name_id;
            COMMIT;
            """);
        Assert.DoesNotContain(await IndexDefinitionsAsync(), d => d.Contains("ix_customers_name_id"));

        await using (var scope = factory.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<SyncEngine>().RunAsync(SyncMode.Default, new SyncScope.All(), null, CancellationToken.None);

        Assert.Equal(before, await IndexDefinitionsAsync());
        Assert.Equal(0, await ScalarAsync<long>(connection, "SELECT count(*) FROM deferred_indexes"));
    }

    private async Task<List<string>> IndexDefinitionsAsync()
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'customers' ORDER BY indexname", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var definitions = new List<string>();
        while (await reader.ReadAsync())
            definitions.Add(reader.GetString(0));
        return definitions;
    }

    private static async Task<bool> WaitingForAsync(NpgsqlConnection holder) =>
        await ScalarAsync<long>(holder, $"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND ((classid::bigint << 32) | objid::bigint) = {HoldKey}") > 0;

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
