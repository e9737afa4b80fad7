-- sync.completed / sync.failed for a full sync's run that ends (docs/WEBHOOKS.md), written in
-- the transaction that finishes the run, with the run's id (for a replay of the run); NOTIFY
-- only when some subscription wants it.
--
-- search_path pinned to public, then pg_temp: a session's temporary table named like one of
-- ours (webhooks, customer_changes, …) never shadows it (migration PinFunctionSearchPath).
--
-- The current definition, as pg_get_functiondef prints it; DatabaseObjectsTests holds it equal
-- to the migrated database's. Its trigger: sync_runs_webhook_events.sql.

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
