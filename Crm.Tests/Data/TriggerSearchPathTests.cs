using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Data;

// The triggers write the ledger and the webhook outbox into the real tables, whatever
// temporary tables the writing session made: a temp table is searched first by default, so
// without a pinned search_path `CREATE TEMP TABLE customer_changes` would swallow the ledger
// rows and a temp `webhooks` would decide who gets events.
public class TriggerSearchPathTests
{
    [Fact]
    public async Task ASessionsTempTablesDoNotShadowTheTriggersTables()
    {
        var name = await TestDatabase.CreateAsync();
        try
        {
            await using var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(name));
            await connection.OpenAsync();
            var phone = TestPhones.New();
            await using (var command = new NpgsqlCommand($"""
                CREATE TEMP TABLE customer_changes (LIKE public.customer_changes INCLUDING DEFAULTS);
                CREATE TEMP TABLE webhooks (id bigint, enabled boolean, events text[]);
                INSERT INTO webhooks VALUES (424242, true, ARRAY['*']);
                INSERT INTO customers (name, phone) VALUES ('Тень', '{phone}');
                """, connection))
                await command.ExecuteNonQueryAsync();

            await using var check = new NpgsqlCommand($"""
                SELECT (SELECT count(*) FROM public.customer_changes ch JOIN public.customers c ON c.id = ch.customer_id
                        WHERE c.phone = '{phone}' AND ch.field = 'created'),
                       (SELECT count(*) FROM pg_temp.customer_changes),
                       (SELECT count(*) FROM public.webhook_events)
                """, connection);
            await using var reader = await check.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.Equal((1L, 0L, 0L), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)));
        }
        finally
        {
            await TestDatabase.DropAsync(name);
        }
    }
}
