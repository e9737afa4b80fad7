-- Inserted customers enter the ledger as 'created' (crm_record_customer_changes.sql).
--
-- The current definition, as pg_get_triggerdef prints it (laid out on lines);
-- DatabaseObjectsTests holds it equal to the migrated database's.

CREATE OR REPLACE TRIGGER customers_ledger_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT
    EXECUTE FUNCTION crm_record_customer_changes();
