-- The change ledger (docs/LEDGER.md): statement-level triggers with transition tables write
-- one set-based INSERT per statement that changes customers, whatever its number of rows, in
-- the transaction of the change. A trigger rather than a statement in each writer: it sees
-- the rows exactly as they were before and after (also when a concurrent write made
-- PostgreSQL re-read a row mid-UPDATE), and no write path (EF Core, the sync engine, a psql
-- session) can change a customer without its ledger rows. The writer names itself in
-- transaction-local settings (ChangeLedger.BeginAsync): crm.change_source, crm.run_id, and for
-- category changes crm.category_thresholds.
-- jit off: a bulk run plans with enable_nestloop off, which inflates the cost of the per-field
-- VALUES join past jit_above_cost, so every call paid a JIT compilation for a few rows.
--
-- search_path pinned to public, then pg_temp: a session's temporary table named like one of
-- ours (webhooks, customer_changes, …) never shadows it (migration PinFunctionSearchPath).
--
-- The current definition, as pg_get_functiondef prints it; DatabaseObjectsTests holds it equal
-- to the migrated database's. Its triggers: customers_ledger_insert/update/delete.sql.

CREATE OR REPLACE FUNCTION public.crm_record_customer_changes()
 RETURNS trigger
 LANGUAGE plpgsql
 SET jit TO 'off'
 SET search_path TO 'public', 'pg_temp'
AS $function$
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
$function$;
