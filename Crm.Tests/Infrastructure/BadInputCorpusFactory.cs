using Microsoft.AspNetCore.Hosting;
using Npgsql;

namespace Crm.Tests.Infrastructure;

// A database with rows every write could touch, and no recurring job that could add a job
// on its own while a case runs.
public class BadInputCorpusFactory : CrmApiFactory
{
    public Dictionary<string, string> Ids { get; } = [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        WithoutRecurringJobs(builder);
        builder.UseSetting("Crm:Ledger:PruneCron", "");
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            WITH c AS (
                INSERT INTO customers (name, phone, email, city, address, notes, category, total_orders, total_spent,
                                       average_order, last_order_date, created_at, updated_at)
                VALUES ('Исходный Клиент', '+79990000001', 'first@example.com', 'Пермь', 'ул. Ленина, 1', 'заметка', 'regular', 3, 300, 100,
                        '2026-10-01', '2026-01-01', '2026-01-01'),
                       ('Другой Клиент', '+79990000002', '', 'Омск', '', '', 'new', 0, 0, 0, NULL, '2026-01-02', '2026-01-02')
                RETURNING id, phone
            ), n AS (
                INSERT INTO customer_notes (customer_id, note, created_by, created_at)
                SELECT id, 'Первая заметка', 'seed', '2026-01-03' FROM c WHERE phone = '+79990000001'
            ), o AS (
                INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city, delivery_address,
                                    total_amount, status, created_at, updated_at)
                SELECT 'Исходный Клиент', '8 999 000 00 01', '+79990000001', 'first@example.com', 'Пермь', 'ул. Ленина, 1',
                       100 * i, 'completed', '2026-10-01'::timestamptz - make_interval(days => i), '2026-10-01'
                FROM generate_series(1, 3) AS i
                RETURNING id
            ), r AS (
                INSERT INTO customer_sync_requests (phone, version, synced_version, requested_at)
                VALUES ('+79990000001', 3, 3, '2026-10-01')
            ), s AS (
                INSERT INTO sync_runs (job_id, mode, status, started_at, finished_at, created_count, updated_count, unchanged_count,
                                       skipped_count, error_count, total_customers, duration_ms, dry_run, changes, revert_job_id, reverted_at)
                VALUES (NULL, 'default', 'succeeded', '2026-10-01', '2026-10-01', 2, 0, 0, 0, 0, 2, 5, false, '{"created": 2}', NULL, NULL),
                       (NULL, 'default', 'succeeded', '2026-10-02', '2026-10-02', 0, 0, 2, 0, 0, 2, 5, true, '{}', NULL, NULL),
                       (NULL, 'force', 'succeeded', '2026-10-03', '2026-10-03', 0, 1, 1, 0, 0, 2, 5, false, '{"email": 1}', '1', '2026-10-04')
                RETURNING id, dry_run, revert_job_id
            )
            SELECT (SELECT id FROM c WHERE phone = '+79990000001'), (SELECT id FROM c WHERE phone = '+79990000002'), (SELECT min(id) FROM o),
                   (SELECT id FROM s WHERE NOT dry_run AND revert_job_id IS NULL), (SELECT id FROM s WHERE dry_run),
                   (SELECT id FROM s WHERE revert_job_id IS NOT NULL)
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Ids["{customer}"] = reader.GetInt64(0).ToString();
        Ids["{otherCustomer}"] = reader.GetInt64(1).ToString();
        Ids["{order}"] = reader.GetInt64(2).ToString();
        Ids["{run}"] = reader.GetInt64(3).ToString();
        Ids["{dryRun}"] = reader.GetInt64(4).ToString();
        Ids["{revertedRun}"] = reader.GetInt64(5).ToString();
        await reader.CloseAsync();

        // Two subscriptions, written around the API (outside Development the API would look
        // their hosts up): one with a delivered message, its event and its attempt, so that a
        // request that deletes or changes them shows; one the service disabled. Nothing is
        // pending, so no delivery job is ever enqueued.
        await using var webhooks = new NpgsqlCommand("""
            WITH w AS (
                INSERT INTO webhooks (url, events, description, enabled, secret, created_at, updated_at,
                                      failing_since, last_error, disabled_reason)
                VALUES ('https://hooks.example.com/crm', '{customer.created,customer.deleted}', 'Учёт', true,
                        'whsec_Y29ycHVzLWZpeHR1cmUtc2VjcmV0LTAx', '2026-10-01', '2026-10-01', NULL, NULL, NULL),
                       ('https://hooks.example.com/gone', '{*}', NULL, false,
                        'whsec_Y29ycHVzLWZpeHR1cmUtc2VjcmV0LTAy', '2026-10-01', '2026-10-03', '2026-10-02', 'HTTP 503',
                        'Every delivery failed since 2026-10-02 00:00:00 UTC (Crm:Webhooks:DisableAfter); last error: HTTP 503')
                RETURNING id, enabled
            ), m AS (
                INSERT INTO webhook_messages (webhook_id, message_id, body, event_count, first_occurred_at, created_at, attempts, delivered_at)
                SELECT id, 'msg_0123456789abcdef0123456789abcdef', '{"events":[]}', 1, '2026-10-01', '2026-10-01', 1, '2026-10-01'
                FROM w WHERE enabled
                RETURNING id, webhook_id
            ), e AS (
                INSERT INTO webhook_events (webhook_id, type, occurred_at, data, message_id)
                SELECT webhook_id, 'customer.created', '2026-10-01', '{"customerId": 1}', id FROM m
            ), d AS (
                INSERT INTO webhook_deliveries (webhook_id, message_id, events, attempt, state, response_status, error, duration_ms, at)
                SELECT webhook_id, id, 1, 1, 'delivered', 200, NULL, 12, '2026-10-01' FROM m
            )
            SELECT (SELECT id FROM w WHERE enabled), (SELECT id FROM w WHERE NOT enabled)
            """, connection);
        await using var hooks = await webhooks.ExecuteReaderAsync();
        await hooks.ReadAsync();
        Ids["{webhook}"] = hooks.GetInt64(0).ToString();
        Ids["{disabledWebhook}"] = hooks.GetInt64(1).ToString();
        await hooks.CloseAsync();

        // A saved segment, so that a request that deletes or renames it shows.
        await using var segment = new NpgsqlCommand("""
            INSERT INTO segments (name, filter, created_at, created_by)
            VALUES ('VIP в Перми', '{"category": ["vip"], "city": "Пермь"}', '2026-10-01', 'seed')
            RETURNING id
            """, connection);
        Ids["{segment}"] = ((long)(await segment.ExecuteScalarAsync())!).ToString();
    }

    // Everything a request could write: the CRM tables row for row, and the jobs that are not
    // a recurring job's occurrence.
    public async Task<string> FingerprintAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT concat_ws(E'\n',
                'customers ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM customers t),
                'orders ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM orders t),
                'customer_notes ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM customer_notes t),
                'sync_runs ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM sync_runs t),
                'customer_changes ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM customer_changes t),
                'customer_sync_requests ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.phone)), '') FROM customer_sync_requests t),
                'webhooks ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM webhooks t),
                'webhook_events ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM webhook_events t),
                'webhook_messages ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM webhook_messages t),
                'segments ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM segments t),
                'webhook_deliveries ' || (SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM webhook_deliveries t),
                'hangfire.job ' || (SELECT count(*) FROM hangfire.job j
                                    WHERE NOT EXISTS (SELECT 1 FROM hangfire.jobparameter p WHERE p.jobid = j.id AND p.name = 'RecurringJobId')),
                'hangfire.jobqueue ' || (SELECT count(*) FROM hangfire.jobqueue))
            """, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
