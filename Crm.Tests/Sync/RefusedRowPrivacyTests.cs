using Crm.Jobs.Customers;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Crm.Tests.Sync;

// A customer the database refuses is named by id, never by phone or values: in the run's
// error, in its sync_errors row's error text and in the log. PostgreSQL's Detail ("Failing
// row contains (…)") and a data exception's quoted value stay out of all three.
public class RefusedRowPrivacyTests(SyncDatabase db) : IClassFixture<SyncDatabase>
{
    // A check constraint (23514, whose Detail lists the row) and a trigger whose cast fails
    // with the value in the message (22P02: invalid input syntax for type integer: "…").
    private const string RefuseSql = """
        ALTER TABLE customers ADD CONSTRAINT test_city_allowed CHECK (city <> 'Blockedtown') NOT VALID;
        CREATE FUNCTION test_city_number() RETURNS trigger LANGUAGE plpgsql AS $f$
        BEGIN
            IF NEW.city LIKE 'Number%' THEN PERFORM NEW.city::int; END IF;
            RETURN NEW;
        END $f$;
        CREATE TRIGGER test_city_number BEFORE INSERT OR UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION test_city_number();
        """;

    private const string AllowSql = """
        ALTER TABLE customers DROP CONSTRAINT IF EXISTS test_city_allowed;
        DROP TRIGGER IF EXISTS test_city_number ON customers;
        DROP FUNCTION IF EXISTS test_city_number();
        """;

    [Fact]
    public async Task RefusedCustomersAreNamedByIdWithoutTheirPhonesOrValues()
    {
        var (known, fresh) = (TestPhones.New(), TestPhones.New());
        var existing = await db.AddCustomerAsync(new Customer { Name = "Known Person", Phone = known, City = "Moscow" });
        await db.AddOrdersAsync(
            SyncDatabase.OrderOf(known, 100m, db.Now.AddDays(-1), name: "Refusenik Alpha", email: "alpha.secret@example.com",
                city: "Blockedtown", address: "1 Hidden Lane"),
            SyncDatabase.OrderOf(fresh, 200m, db.Now.AddDays(-1), name: "Refusenik Beta", email: "beta.secret@example.com",
                city: "Number 12x", address: "2 Hidden Lane"));
        var logs = new CapturedLogs();
        var engine = db.CreateEngine(logger: logs.CreateLogger<SyncEngine>());
        var jobId = $"job-{Guid.NewGuid():N}";
        string[] personal =
        [
            known, fresh, known[1..], fresh[1..], "Refusenik", "secret@example.com", "Blockedtown", "Number 12x", "Hidden Lane",
        ];

        await db.ExecuteAsync(RefuseSql);
        try
        {
            var counts = await engine.RunAsync(SyncMode.Force, new SyncScope.Phones([known, fresh]), jobId, CancellationToken.None);
            Assert.Equal(2, counts.ErrorCount);
        }
        finally
        {
            await db.ExecuteAsync(AllowSql);
        }

        // The first refused phone (phones are tried in order) belongs to an existing customer: its id.
        var run = await db.SyncRunAsync(jobId);
        Assert.StartsWith("2 customer(s) could not be written", run.Error);
        Assert.Contains($"first error: customer {existing.Id}: A database constraint refused a row (23514)", run.Error);
        Assert.DoesNotContain("test_city_allowed", run.Error);
        AssertHoldsNone(personal, run.Error!);

        // Each refused phone keeps its row (it is retried by phone); its error text says what
        // happened (FailureText): no value, no constraint.
        var errors = await ErrorsAsync(known, fresh);
        Assert.Equal(2, errors.Count);
        Assert.Equal("23514", errors[known].SqlState);
        Assert.Equal("A database constraint refused a row (23514)", errors[known].Error);
        Assert.Equal("22P02", errors[fresh].SqlState);
        Assert.Equal("The database refused a value (22P02)", errors[fresh].Error);
        Assert.All(errors.Values, error => AssertHoldsNone(personal, error.Error));

        // The log says which customer, by id, and what the database said, without the values.
        var lines = logs.AtLeast(LogLevel.Information);
        Assert.Contains(lines, line => line.Contains($"customer {existing.Id} could not be written"));
        Assert.Contains(lines, line => line.Contains("a new customer could not be written"));
        Assert.All(lines, line => AssertHoldsNone(personal, line));
    }

    private static void AssertHoldsNone(string[] personal, string text)
    {
        foreach (var value in personal)
            Assert.False(text.Contains(value, StringComparison.Ordinal), $"'{value}' appears in: {text}");
    }

    private async Task<Dictionary<string, (string SqlState, string Error)>> ErrorsAsync(params string[] phones)
    {
        await using var command = db.DataSource.CreateCommand("SELECT phone, sql_state, error FROM sync_errors WHERE phone = ANY(@phones)");
        command.Parameters.AddWithValue("phones", phones);
        await using var reader = await command.ExecuteReaderAsync();
        var errors = new Dictionary<string, (string, string)>();
        while (await reader.ReadAsync())
            errors[reader.GetString(0)] = (reader.GetString(1), reader.GetString(2));
        return errors;
    }
}
