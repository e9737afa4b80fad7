-- Every changed field of updated customers enters the ledger (crm_record_customer_changes.sql).
--
-- The current definition, as pg_get_triggerdef prints it (laid out on lines);
-- DatabaseObjectsTests holds it equal to the migrated database's.

CREATE OR REPLACE TRIGGER customers_ledger_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION crm_record_customer_changes();
