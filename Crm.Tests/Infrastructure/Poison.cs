namespace Crm.Tests.Infrastructure;

// A row the sync cannot write, for the isolation tests: an order written straight into the
// table (as an older version of the importer or the shop's own database could) whose
// 17-digit "possible" phone the customers table's E.164 check refuses.
public static class Poison
{
    public const string Phone = "+49301234567890123";

    // A customer in the city 'Отказ' is refused by a trigger whose message names a host, a
    // constraint and the customer's phone: what no reader may see of a failure.
    public const string LoudRefusalSql = """
        CREATE FUNCTION test_refuse_loudly() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            IF NEW.city = 'Отказ' THEN
                RAISE EXCEPTION 'constraint ck_secret_rule on db-7.internal.example refused %', NEW.phone;
            END IF;
            RETURN NEW;
        END $f$;
        CREATE TRIGGER test_refuse_loudly BEFORE INSERT OR UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION test_refuse_loudly();
        """;

    public static Task AddOrderAsync(SyncDatabase db) =>
        db.AddOrdersAsync(SyncDatabase.OrderOf(Phone, 500m, db.Now.AddDays(-2), name: "Слишком длинный"));

    public static async Task<(string SqlState, string Error, int Attempts, DateTime RetryAt, long? RunId)?> ErrorAsync(SyncDatabase db)
    {
        await using var command = db.DataSource.CreateCommand(
            "SELECT sql_state, error, attempts, retry_at, run_id FROM sync_errors WHERE phone = @phone");
        command.Parameters.AddWithValue("phone", Phone);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
            return null;
        return (reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetDateTime(3),
            reader.IsDBNull(4) ? null : reader.GetInt64(4));
    }
}
