-- Ledger rows become webhook events for the subscriptions that want them
-- (crm_webhook_customer_events.sql).
--
-- The current definition, as pg_get_triggerdef prints it (laid out on lines);
-- DatabaseObjectsTests holds it equal to the migrated database's.

CREATE OR REPLACE TRIGGER customer_changes_webhook_events AFTER INSERT ON customer_changes
    REFERENCING NEW TABLE AS new_changes
    FOR EACH STATEMENT
    EXECUTE FUNCTION crm_webhook_customer_events();
