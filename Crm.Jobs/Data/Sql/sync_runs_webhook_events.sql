-- A full sync's run that ends (not a dry run, not a per-customer sync) becomes sync.completed
-- or sync.failed (crm_webhook_sync_events.sql).
--
-- The current definition, as pg_get_triggerdef prints it (laid out on lines);
-- DatabaseObjectsTests holds it equal to the migrated database's.

CREATE OR REPLACE TRIGGER sync_runs_webhook_events AFTER UPDATE OF status ON sync_runs
    FOR EACH ROW
    WHEN (old.status::text = 'running'::text
          AND new.status::text <> 'running'::text
          AND NOT new.dry_run
          AND new.mode::text <> 'auto'::text)
    EXECUTE FUNCTION crm_webhook_sync_events();
