using System.Net.Http.Json;
using Npgsql;

namespace Crm.Tests.Infrastructure;

// 60 customers of every category, synced with the default thresholds: from 1 to 11 completed
// orders of 500 or 30 000 each, the newest 7 to 420 days ago, and a few with none completed.
public sealed class PreviewCustomersFactory : CrmApiFactory
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var now = Clock.GetUtcNow().UtcDateTime;
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var seed = new NpgsqlCommand($"""
                INSERT INTO orders (customer_name, customer_phone, normalized_phone, total_amount, status, created_at, updated_at)
                SELECT 'Клиент ' || p, '+7998' || lpad(p::text, 7, '0'), '+7998' || lpad(p::text, 7, '0'),
                       CASE WHEN p % 5 = 0 THEN 30000 ELSE 500 END,
                       CASE WHEN p % 13 = 0 THEN 'cancelled' ELSE 'completed' END,
                       '{now:O}'::timestamptz - (p * 7 + k) * interval '1 day', '{now:O}'::timestamptz
                FROM generate_series(1, 60) AS p, generate_series(0, p % 11) AS k
                """, connection);
            await seed.ExecuteNonQueryAsync();
        }
        var client = CreateClient();
        var sync = await (await client.PostAsJsonAsync("/api/sync", new { mode = "default" })).ReadJsonAsync();
        await client.JobAsync((string)sync["jobId"]!);
    }
}
