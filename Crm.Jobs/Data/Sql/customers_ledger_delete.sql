-- Deleted customers enter the ledger as 'deleted' (crm_record_customer_changes.sql).
--
-- The current definition, as pg_get_triggerdef prints it (laid out on lines);
-- DatabaseObjectsTests holds it equal to the migrated database's.

CREATE OR REPLACE TRIGGER customers_ledger_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION crm_record_customer_changes();
