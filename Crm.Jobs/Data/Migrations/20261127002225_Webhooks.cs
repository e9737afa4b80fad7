using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class Webhooks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "webhooks",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    url = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    events = table.Column<string[]>(type: "text[]", nullable: false),
                    description = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    enabled = table.Column<bool>(type: "boolean", nullable: false),
                    secret = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    previous_secret = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    previous_secret_expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    failing_since = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    last_error = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    disabled_reason = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    delivery_job_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhooks", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "webhook_messages",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    webhook_id = table.Column<long>(type: "bigint", nullable: false),
                    message_id = table.Column<string>(type: "character varying(60)", maxLength: 60, nullable: false),
                    body = table.Column<string>(type: "text", nullable: false),
                    event_count = table.Column<int>(type: "integer", nullable: false),
                    first_occurred_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    delivered_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_messages", x => x.id);
                    table.ForeignKey(
                        name: "fk_webhook_messages_webhooks_webhook_id",
                        column: x => x.webhook_id,
                        principalTable: "webhooks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "webhook_deliveries",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    webhook_id = table.Column<long>(type: "bigint", nullable: false),
                    message_id = table.Column<long>(type: "bigint", nullable: false),
                    events = table.Column<int>(type: "integer", nullable: false),
                    attempt = table.Column<int>(type: "integer", nullable: false),
                    state = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    response_status = table.Column<int>(type: "integer", nullable: true),
                    error = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: true),
                    duration_ms = table.Column<int>(type: "integer", nullable: false),
                    at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_deliveries", x => x.id);
                    table.CheckConstraint("ck_webhook_deliveries_state", "state IN ('delivered', 'failed')");
                    table.ForeignKey(
                        name: "fk_webhook_deliveries_webhook_messages_message_id",
                        column: x => x.message_id,
                        principalTable: "webhook_messages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_webhook_deliveries_webhooks_webhook_id",
                        column: x => x.webhook_id,
                        principalTable: "webhooks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "webhook_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    webhook_id = table.Column<long>(type: "bigint", nullable: false),
                    type = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    occurred_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    data = table.Column<string>(type: "jsonb", nullable: false),
                    message_id = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_events", x => x.id);
                    table.ForeignKey(
                        name: "fk_webhook_events_webhook_messages_message_id",
                        column: x => x.message_id,
                        principalTable: "webhook_messages",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_webhook_events_webhooks_webhook_id",
                        column: x => x.webhook_id,
                        principalTable: "webhooks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_message_id",
                table: "webhook_deliveries",
                column: "message_id");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_deliveries_webhook_id_id",
                table: "webhook_deliveries",
                columns: new[] { "webhook_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_message_id",
                table: "webhook_events",
                column: "message_id",
                filter: "message_id IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_events_pending",
                table: "webhook_events",
                columns: new[] { "webhook_id", "id" },
                filter: "message_id IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_messages_delivered_at",
                table: "webhook_messages",
                column: "delivered_at");

            migrationBuilder.CreateIndex(
                name: "ix_webhook_messages_message_id",
                table: "webhook_messages",
                column: "message_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_webhook_messages_undelivered",
                table: "webhook_messages",
                columns: new[] { "webhook_id", "id" },
                filter: "delivered_at IS NULL");

            // The outbox is fed by triggers, so every change writes its events in its own
            // transaction, set-based (one INSERT … SELECT per statement, whatever its row
            // count), and the NOTIFY that wakes the dispatcher is delivered only at commit.
            migrationBuilder.Sql("""
                CREATE FUNCTION crm_webhook_customer_events() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
                $fn$;

                -- A bulk run plans with enable_nestloop off (SyncEngine.BulkSettings). Inside these
                -- triggers that inflates the cost of the joins that can only be nested loops
                -- (the subscriptions' events, the ledger's per-field VALUES) past jit_above_cost:
                -- every call paid a JIT compilation (100–400 ms) for a few rows. Their transition
                -- tables carry true row counts, so the planner needs no such help here.
                ALTER FUNCTION crm_webhook_customer_events() SET jit = off SET enable_nestloop = on;
                ALTER FUNCTION crm_record_customer_changes() SET jit = off;

                -- The pending events are a small, fast-moving part of a big table: analyse and
                -- vacuum it by rows changed, not by share, so plans see the backlog as it is.
                ALTER TABLE webhook_events SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
                                                autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 10000);

                CREATE TRIGGER customer_changes_webhook_events AFTER INSERT ON customer_changes
                    REFERENCING NEW TABLE AS new_changes FOR EACH STATEMENT EXECUTE FUNCTION crm_webhook_customer_events();

                -- A full sync that ends (not a dry run, not a per-customer sync).
                CREATE FUNCTION crm_webhook_sync_events() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
                $fn$;

                CREATE TRIGGER sync_runs_webhook_events AFTER UPDATE OF status ON sync_runs
                    FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status <> 'running' AND NOT NEW.dry_run AND NEW.mode <> 'auto')
                    EXECUTE FUNCTION crm_webhook_sync_events();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER customer_changes_webhook_events ON customer_changes;
                DROP TRIGGER sync_runs_webhook_events ON sync_runs;
                DROP FUNCTION crm_webhook_customer_events();
                ALTER FUNCTION crm_record_customer_changes() RESET ALL;
                DROP FUNCTION crm_webhook_sync_events();
                """);

            migrationBuilder.DropTable(
                name: "webhook_deliveries");

            migrationBuilder.DropTable(
                name: "webhook_events");

            migrationBuilder.DropTable(
                name: "webhook_messages");

            migrationBuilder.DropTable(
                name: "webhooks");
        }
    }
}
