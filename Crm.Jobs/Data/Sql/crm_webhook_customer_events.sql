-- The webhook outbox for customer events (docs/WEBHOOKS.md), fed from the ledger: every change
-- writes its events in its own transaction, set-based (one INSERT … SELECT per statement,
-- whatever its row count), and the NOTIFY that wakes the dispatcher is delivered only at commit.
-- It first works out which ledger fields the enabled subscriptions want, and returns unless
-- the statement changed one of them. Each event keeps the sync run that made its change (the
-- ledger's run_id), for POST /api/webhooks/{id}/replay {"runId": n}.
-- jit off, enable_nestloop on: a bulk run plans with enable_nestloop off (SyncSql's bulk
-- settings), which inflates the cost of the joins that can only be nested loops (the
-- subscriptions' events) past jit_above_cost: every call paid a JIT compilation (100–400 ms)
-- for a few rows. The transition table carries true row counts, so the planner needs no help.
--
-- search_path pinned to public, then pg_temp: a session's temporary table named like one of
-- ours (webhooks, customer_changes, …) never shadows it (migration PinFunctionSearchPath).
--
-- The current definition, as pg_get_functiondef prints it; DatabaseObjectsTests holds it equal
-- to the migrated database's. Its trigger: customer_changes_webhook_events.sql.

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
