using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Sync;

// A user's orders table right after a bulk load has no statistics until autovacuum gets to
// it. One customer's statements must read that customer's rows by the phone index then too:
// without statistics the planner guessed the completed orders few and ANDed the status index
// (three quarters of the table) with the phone's: about a thousand buffers per customer at 1M.
public class FreshTablePlanTests : IAsyncLifetime
{
    private const int PhoneCount = 40_000;
    private readonly SyncDatabase _db = new();
    private readonly string[] _phones = Enumerable.Range(0, PhoneCount).Select(_ => TestPhones.New()).ToArray();

    public async Task InitializeAsync()
    {
        await _db.InitializeAsync();
        // Loaded and never analysed: autovacuum is off for the table before the first row.
        await _db.ExecuteAsync($"""
            ALTER TABLE orders SET (autovacuum_enabled = false);
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                                delivery_address, total_amount, status, created_at, updated_at)
            SELECT 'Клиент ' || p.phone, p.phone, p.phone, '', 'Москва', '', 100 + i,
                   CASE WHEN i % 4 = 0 THEN 'cancelled' ELSE 'completed' END,
                   '{_db.Now:O}'::timestamptz - i * interval '1 day', '{_db.Now:O}'::timestamptz
            FROM generate_series(1, 5) AS i,
                 unnest(ARRAY[{string.Join(", ", _phones.Select(p => $"'{p}'"))}]::varchar[]) AS p(phone)
            """);
    }

    public Task DisposeAsync() => _db.DisposeAsync();

    [Fact]
    public async Task OneCustomersSourceIsReadByThePhoneIndexAloneOnATableWithoutStatistics()
    {
        var phone = _phones[PhoneCount / 2];
        var plan = await Plans.ExplainAnalyzeAsync(_db.ConnectionString, BatchScope.SmallScope.Apply(SyncSql.SourceSql),
            new Dictionary<string, object> { ["scope_phones"] = new[] { phone } });

        Assert.DoesNotContain("ix_orders_status_created_at", plan);
        Assert.DoesNotContain("Seq Scan on orders", plan);
        Assert.Contains("ix_orders_normalized_phone_created_at_id", plan);
    }
}
