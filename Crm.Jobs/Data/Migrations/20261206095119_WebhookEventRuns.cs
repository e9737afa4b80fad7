using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class WebhookEventRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "run_id",
                table: "webhook_events",
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_webhook_id_run_id",
                table: "webhook_events",
                columns: new[] { "webhook_id", "run_id" },
                filter: "run_id IS NOT NULL");

            // The triggers keep each event's sync run (Crm.Jobs/Data/Sql/crm_webhook_*_events.sql).
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION public.crm_webhook_customer_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                 SET jit TO 'off'
                 SET enable_nestloop TO 'on'
                 SET search_path TO 'public', 'pg_temp'
                AS $function$
                DECLARE
                    -- The ledger fields whose changes some enabled subscription wants.
                    wanted_fields text[];
                BEGIN
                    SELECT array_agg(DISTINCT m.field) INTO wanted_fields
                    FROM webhooks w
                    CROSS JOIN unnest(w.events) AS t(type)
                    JOIN (VALUES ('customer.created', 'created'), ('customer.deleted', 'deleted'),
                                 ('customer.category_changed', 'category'),
                                 ('customer.updated', 'name'), ('customer.updated', 'phone'), ('customer.updated', 'email'),
                                 ('customer.updated', 'city'), ('customer.updated', 'address')) AS m(type, field)
                        ON t.type IN (m.type, '*')
                    WHERE w.enabled;
                    -- Nobody wants what this statement changed (or nobody is subscribed): nothing to write.
                    IF wanted_fields IS NULL OR NOT EXISTS (SELECT 1 FROM new_changes WHERE field = ANY(wanted_fields)) THEN
                        RETURN NULL;
                    END IF;
                    INSERT INTO webhook_events (webhook_id, type, occurred_at, data, run_id)
                    SELECT w.id, e.type, e.occurred_at, e.data, e.run_id
                    FROM (
                        SELECT ch.id AS ledger_id,
                               CASE ch.field WHEN 'created' THEN 'customer.created' ELSE 'customer.deleted' END AS type,
                               ch.changed_at AS occurred_at,
                               jsonb_build_object('customerId', ch.customer_id) || coalesce(ch.new_value, ch.old_value) AS data,
                               ch.run_id
                        FROM new_changes ch
                        WHERE ch.field IN ('created', 'deleted') AND ch.field = ANY(wanted_fields)
                        UNION ALL
                        SELECT ch.id, 'customer.category_changed', ch.changed_at,
                               jsonb_build_object('customerId', ch.customer_id, 'phone', c.phone,
                                                  'from', ch.old_value, 'to', ch.new_value, 'reason', ch.reason),
                               ch.run_id
                        FROM new_changes ch
                        LEFT JOIN customers c ON c.id = ch.customer_id
                        WHERE ch.field = 'category' AND ch.field = ANY(wanted_fields)
                        UNION ALL
                        -- One customer.updated per customer and statement, with every contact field it changed.
                        SELECT min(ch.id), 'customer.updated', max(ch.changed_at),
                               jsonb_build_object('customerId', ch.customer_id, 'phone', max(c.phone),
                                   'changes', jsonb_object_agg(ch.field, jsonb_build_object('from', ch.old_value, 'to', ch.new_value))),
                               max(ch.run_id)
                        FROM new_changes ch
                        LEFT JOIN customers c ON c.id = ch.customer_id
                        WHERE ch.field IN ('name', 'phone', 'email', 'city', 'address') AND ch.field = ANY(wanted_fields)
                        GROUP BY ch.customer_id
                    ) e
                    JOIN webhooks w ON w.enabled AND (w.events @> ARRAY[e.type] OR w.events @> ARRAY['*'])
                    ORDER BY w.id, e.ledger_id;
                    PERFORM pg_notify('crm_webhooks', '');
                    RETURN NULL;
                END
                $function$;
                """);
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION public.crm_webhook_sync_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                 SET search_path TO 'public', 'pg_temp'
                AS $function$
                BEGIN
                    INSERT INTO webhook_events (webhook_id, type, occurred_at, data, run_id)
                    SELECT w.id, e.type, NEW.finished_at,
                           jsonb_build_object('runId', NEW.id, 'mode', NEW.mode, 'status', NEW.status,
                                              'startedAt', NEW.started_at, 'finishedAt', NEW.finished_at,
                                              'durationMs', NEW.duration_ms, 'createdCount', NEW.created_count,
                                              'updatedCount', NEW.updated_count, 'unchangedCount', NEW.unchanged_count,
                                              'skippedCount', NEW.skipped_count, 'errorCount', NEW.error_count,
                                              'totalCustomers', NEW.total_customers, 'changes', NEW.changes, 'error', NEW.error),
                           NEW.id
                    FROM (VALUES (CASE WHEN NEW.status = 'succeeded' THEN 'sync.completed' ELSE 'sync.failed' END)) AS e(type)
                    JOIN webhooks w ON w.enabled AND (w.events @> ARRAY[e.type] OR w.events @> ARRAY['*']);
                    IF FOUND THEN
                        PERFORM pg_notify('crm_webhooks', '');
                    END IF;
                    RETURN NULL;
                END
                $function$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION public.crm_webhook_customer_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                 SET jit TO 'off'
                 SET enable_nestloop TO 'on'
                 SET search_path TO 'public', 'pg_temp'
                AS $function$
                DECLARE
                    -- The ledger fields whose changes some enabled subscription wants.
                    wanted_fields text[];
                BEGIN
                    SELECT array_agg(DISTINCT m.field) INTO wanted_fields
                    FROM webhooks w
                    CROSS JOIN unnest(w.events) AS t(type)
                    JOIN (VALUES ('customer.created', 'created'), ('customer.deleted', 'deleted'),
                                 ('customer.category_changed', 'category'),
                                 ('customer.updated', 'name'), ('customer.updated', 'phone'), ('customer.updated', 'email'),
                                 ('customer.updated', 'city'), ('customer.updated', 'address')) AS m(type, field)
                        ON t.type IN (m.type, '*')
                    WHERE w.enabled;
                    -- Nobody wants what this statement changed (or nobody is subscribed): nothing to write.
                    IF wanted_fields IS NULL OR NOT EXISTS (SELECT 1 FROM new_changes WHERE field = ANY(wanted_fields)) THEN
                        RETURN NULL;
                    END IF;
                    INSERT INTO webhook_events (webhook_id, type, occurred_at, data)
                    SELECT w.id, e.type, e.occurred_at, e.data
                    FROM (
                        SELECT ch.id AS ledger_id,
                               CASE ch.field WHEN 'created' THEN 'customer.created' ELSE 'customer.deleted' END AS type,
                               ch.changed_at AS occurred_at,
                               jsonb_build_object('customerId', ch.customer_id) || coalesce(ch.new_value, ch.old_value) AS data
                        FROM new_changes ch
                        WHERE ch.field IN ('created', 'deleted') AND ch.field = ANY(wanted_fields)
                        UNION ALL
                        SELECT ch.id, 'customer.category_changed', ch.changed_at,
                               jsonb_build_object('customerId', ch.customer_id, 'phone', c.phone,
                                                  'from', ch.old_value, 'to', ch.new_value, 'reason', ch.reason)
                        FROM new_changes ch
                        LEFT JOIN customers c ON c.id = ch.customer_id
                        WHERE ch.field = 'category' AND ch.field = ANY(wanted_fields)
                        UNION ALL
                        -- One customer.updated per customer and statement, with every contact field it changed.
                        SELECT min(ch.id), 'customer.updated', max(ch.changed_at),
                               jsonb_build_object('customerId', ch.customer_id, 'phone', max(c.phone),
                                   'changes', jsonb_object_agg(ch.field, jsonb_build_object('from', ch.old_value, 'to', ch.new_value)))
                        FROM new_changes ch
                        LEFT JOIN customers c ON c.id = ch.customer_id
                        WHERE ch.field IN ('name', 'phone', 'email', 'city', 'address') AND ch.field = ANY(wanted_fields)
                        GROUP BY ch.customer_id
                    ) e
                    JOIN webhooks w ON w.enabled AND (w.events @> ARRAY[e.type] OR w.events @> ARRAY['*'])
                    ORDER BY w.id, e.ledger_id;
                    PERFORM pg_notify('crm_webhooks', '');
                    RETURN NULL;
                END
                $function$;
                """);
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION public.crm_webhook_sync_events()
                 RETURNS trigger
                 LANGUAGE plpgsql
                 SET search_path TO 'public', 'pg_temp'
                AS $function$
                BEGIN
                    INSERT INTO webhook_events (webhook_id, type, occurred_at, data)
                    SELECT w.id, e.type, NEW.finished_at,
                           jsonb_build_object('runId', NEW.id, 'mode', NEW.mode, 'status', NEW.status,
                                              'startedAt', NEW.started_at, 'finishedAt', NEW.finished_at,
                                              'durationMs', NEW.duration_ms, 'createdCount', NEW.created_count,
                                              'updatedCount', NEW.updated_count, 'unchangedCount', NEW.unchanged_count,
                                              'skippedCount', NEW.skipped_count, 'errorCount', NEW.error_count,
                                              'totalCustomers', NEW.total_customers, 'changes', NEW.changes, 'error', NEW.error)
                    FROM (VALUES (CASE WHEN NEW.status = 'succeeded' THEN 'sync.completed' ELSE 'sync.failed' END)) AS e(type)
                    JOIN webhooks w ON w.enabled AND (w.events @> ARRAY[e.type] OR w.events @> ARRAY['*']);
                    IF FOUND THEN
                        PERFORM pg_notify('crm_webhooks', '');
                    END IF;
                    RETURN NULL;
                END
                $function$;
                """);
            migrationBuilder.DropIndex(
                name: "ix_webhook_events_webhook_id_run_id",
                table: "webhook_events");

            migrationBuilder.DropColumn(
                name: "run_id",
                table: "webhook_events");
        }
    }
}
