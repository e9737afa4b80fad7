using Crm.Jobs.Sync;

namespace Crm.Tests.Infrastructure;

// 200 000 orders over 40 000 customers, synced and analysed, once for the class.
public sealed class LargeOrdersTable : IAsyncLifetime
{
    public const int PhoneCount = 40_000;
    private const int OrdersPerPhone = 5;

    public SyncDatabase Db { get; } = new();
    public string[] Phones { get; } = Enumerable.Range(0, PhoneCount).Select(_ => TestPhones.New()).ToArray();

    public async Task InitializeAsync()
    {
        await Db.InitializeAsync();
        // Each phone's orders spread over the table, as orders arrive in time, not by customer.
        await Db.ExecuteAsync($"""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                delivery_address, total_amount, status, created_at, updated_at)
            SELECT 'Клиент ' || p.phone, p.phone, p.phone, '', 'Москва', '', 100 + i, 'completed',
                   '{Db.Now:O}'::timestamptz - i * interval '1 day', '{Db.Now:O}'::timestamptz
            FROM generate_series(1, {OrdersPerPhone}) AS i,
                 unnest(ARRAY[{string.Join(", ", Phones.Select(p => $"'{p}'"))}]::varchar[]) AS p(phone)
            """);
        await Db.RunAsync(SyncMode.Default, new SyncScope.All());
        // Autovacuum reads the tables too: off here, so that the counters are the runs' alone.
        await Db.ExecuteAsync("""
            ALTER TABLE orders SET (autovacuum_enabled = false);
            ALTER TABLE customers SET (autovacuum_enabled = false);
            ALTER TABLE customer_changes SET (autovacuum_enabled = false);
            ANALYZE orders; ANALYZE customers; ANALYZE customer_sync_requests; ANALYZE customer_changes;
            """);
    }

    public Task DisposeAsync() => Db.DisposeAsync();
}
