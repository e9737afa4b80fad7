using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class ChangeLedger : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "changes",
                table: "sync_runs",
                type: "jsonb",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "dry_run",
                table: "sync_runs",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "revert_job_id",
                table: "sync_runs",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "reverted_at",
                table: "sync_runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "category_rule",
                table: "customers",
                type: "character varying(20)",
                maxLength: 20,
                nullable: false,
                defaultValue: "noCompletedOrders");

            // Existing customers: the rule their stored category implies (a VIP by the default
            // thresholds' orders count, else by spending); the next recalculation corrects it
            // where the configured thresholds say otherwise.
            migrationBuilder.Sql("""
                UPDATE customers SET category_rule = CASE
                    WHEN category = 'inactive' THEN 'inactive'
                    WHEN category = 'regular' THEN 'regular'
                    WHEN category = 'vip' AND total_orders >= 10 THEN 'vipByOrders'
                    WHEN category = 'vip' THEN 'vipBySpent'
                    WHEN total_orders = 0 THEN 'noCompletedOrders'
                    ELSE 'new'
                END
                """);

            migrationBuilder.CreateTable(
                name: "customer_changes",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    customer_id = table.Column<long>(type: "bigint", nullable: false),
                    field = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    old_value = table.Column<string>(type: "jsonb", nullable: true),
                    new_value = table.Column<string>(type: "jsonb", nullable: true),
                    reason = table.Column<string>(type: "jsonb", nullable: true),
                    changed_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    source = table.Column<string>(type: "character varying(220)", maxLength: 220, nullable: false),
                    run_id = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_customer_changes", x => x.id);
                });

            migrationBuilder.AddCheckConstraint(
                name: "ck_customers_category_rule",
                table: "customers",
                sql: "category_rule IN ('noCompletedOrders', 'inactive', 'vipByOrders', 'vipBySpent', 'regular', 'new')");

            migrationBuilder.CreateIndex(
                name: "ix_customer_changes_changed_at_brin",
                table: "customer_changes",
                column: "changed_at")
                .Annotation("Npgsql:IndexMethod", "brin");

            migrationBuilder.CreateIndex(
                name: "ix_customer_changes_customer_id_changed_at_id",
                table: "customer_changes",
                columns: new[] { "customer_id", "changed_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_customer_changes_run_id_id",
                table: "customer_changes",
                columns: new[] { "run_id", "id" },
                filter: "run_id IS NOT NULL");

            // The ledger is written by statement-level triggers with transition tables: one
            // set-based INSERT per statement that changes customers, whatever its number of
            // rows, in the transaction of the change. A trigger rather than a statement in
            // each writer: it sees the rows exactly as they were before and after (also when
            // a concurrent write made PostgreSQL re-read a row mid-UPDATE), and no write path
            // (EF Core, the sync engine, a psql session) can change a customer without its
            // ledger rows. The writer names itself in transaction-local settings
            // (ChangeLedger.BeginAsync): crm.change_source, crm.run_id, and for category
            // changes crm.category_thresholds.
            migrationBuilder.Sql("""
                CREATE FUNCTION crm_record_customer_changes() RETURNS trigger LANGUAGE plpgsql AS $fn$
                DECLARE
                    -- A setting reset at the end of a transaction reads as '' afterwards, not NULL.
                    change_source text := coalesce(nullif(current_setting('crm.change_source', true), ''), 'sql');
                    change_run bigint := nullif(current_setting('crm.run_id', true), '')::bigint;
                    thresholds jsonb := coalesce(nullif(current_setting('crm.category_thresholds', true), '')::jsonb, '{}');
                BEGIN
                    IF TG_OP = 'INSERT' THEN
                        INSERT INTO customer_changes (customer_id, field, old_value, new_value, reason, changed_at, source, run_id)
                        SELECT n.id, 'created', NULL, jsonb_build_object('phone', n.phone, 'name', n.name, 'category', n.category),
                               NULL, n.created_at, change_source, change_run
                        FROM new_rows n;
                    ELSIF TG_OP = 'UPDATE' THEN
                        INSERT INTO customer_changes (customer_id, field, old_value, new_value, reason, changed_at, source, run_id)
                        SELECT n.id, f.field, f.old_value, f.new_value, f.reason, n.updated_at, change_source, change_run
                        FROM old_rows o
                        JOIN new_rows n ON n.id = o.id
                        CROSS JOIN LATERAL (VALUES
                            ('name', o.name IS DISTINCT FROM n.name, to_jsonb(o.name), to_jsonb(n.name), NULL::jsonb),
                            ('phone', o.phone IS DISTINCT FROM n.phone, to_jsonb(o.phone), to_jsonb(n.phone), NULL),
                            ('email', o.email IS DISTINCT FROM n.email, to_jsonb(o.email), to_jsonb(n.email), NULL),
                            ('city', o.city IS DISTINCT FROM n.city, to_jsonb(o.city), to_jsonb(n.city), NULL),
                            ('address', o.address IS DISTINCT FROM n.address, to_jsonb(o.address), to_jsonb(n.address), NULL),
                            ('notes', o.notes IS DISTINCT FROM n.notes, to_jsonb(o.notes), to_jsonb(n.notes), NULL),
                            ('category', o.category IS DISTINCT FROM n.category, to_jsonb(o.category), to_jsonb(n.category),
                             jsonb_build_object('rule', n.category_rule, 'totalOrders', n.total_orders, 'totalSpent', n.total_spent,
                                                'lastOrderDate', n.last_order_date, 'thresholds', thresholds)),
                            ('statistics',
                             (o.total_orders, o.total_spent, o.average_order, o.last_order_date)
                                 IS DISTINCT FROM (n.total_orders, n.total_spent, n.average_order, n.last_order_date),
                             jsonb_build_object('totalOrders', o.total_orders, 'totalSpent', o.total_spent,
                                                'averageOrder', o.average_order, 'lastOrderDate', o.last_order_date),
                             jsonb_build_object('totalOrders', n.total_orders, 'totalSpent', n.total_spent,
                                                'averageOrder', n.average_order, 'lastOrderDate', n.last_order_date),
                             NULL)
                        ) AS f(field, changed, old_value, new_value, reason)
                        WHERE f.changed;
                    ELSE
                        INSERT INTO customer_changes (customer_id, field, old_value, new_value, reason, changed_at, source, run_id)
                        SELECT o.id, 'deleted', jsonb_build_object('phone', o.phone, 'name', o.name, 'category', o.category),
                               NULL, NULL, statement_timestamp(), change_source, change_run
                        FROM old_rows o;
                    END IF;
                    RETURN NULL;
                END
                $fn$;

                CREATE TRIGGER customers_ledger_insert AFTER INSERT ON customers
                    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION crm_record_customer_changes();
                CREATE TRIGGER customers_ledger_update AFTER UPDATE ON customers
                    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION crm_record_customer_changes();
                CREATE TRIGGER customers_ledger_delete AFTER DELETE ON customers
                    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION crm_record_customer_changes();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER customers_ledger_insert ON customers;
                DROP TRIGGER customers_ledger_update ON customers;
                DROP TRIGGER customers_ledger_delete ON customers;
                DROP FUNCTION crm_record_customer_changes();
                """);

            migrationBuilder.DropTable(
                name: "customer_changes");

            migrationBuilder.DropCheckConstraint(
                name: "ck_customers_category_rule",
                table: "customers");

            migrationBuilder.DropColumn(
                name: "changes",
                table: "sync_runs");

            migrationBuilder.DropColumn(
                name: "dry_run",
                table: "sync_runs");

            migrationBuilder.DropColumn(
                name: "revert_job_id",
                table: "sync_runs");

            migrationBuilder.DropColumn(
                name: "reverted_at",
                table: "sync_runs");

            migrationBuilder.DropColumn(
                name: "category_rule",
                table: "customers");
        }
    }
}
