namespace Crm.Tests.Infrastructure;

// A failure of the database itself, not of the data of some rows: a trigger on customers
// that raises (SQLSTATE P0001) for one city, as a broken extension or a full disk would.
// The sync engine lets such a failure fail the run (Hangfire retries it); a row the data
// breaks, such as a check constraint, would be isolated instead.
public static class CityRefusal
{
    public static string CreateSql(string city) => $$"""
        CREATE FUNCTION test_refuse_city() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            IF NEW.city = '{{city}}' THEN RAISE EXCEPTION 'test_refuse_city: %', NEW.city; END IF;
            RETURN NEW;
        END $f$;
        CREATE TRIGGER test_refuse_city BEFORE INSERT OR UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION test_refuse_city();
        """;

    public const string DropSql = "DROP TRIGGER IF EXISTS test_refuse_city ON customers; DROP FUNCTION IF EXISTS test_refuse_city()";
}
