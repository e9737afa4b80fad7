using System.Net;
using System.Net.Http.Json;
using System.Text;
using Crm.Jobs.Ledger;
using Crm.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Crm.Tests.Security;

// The roles of a deployment (docs/SECURITY.md#database-roles), on the test server: the roles
// script, `migrate` as crm_owner, then the app as crm_app. Everything the app does works with
// rows only; the schema and the ledger's rows are out of its reach.
public class DatabaseRolesTests(DatabaseRolesFactory factory) : IClassFixture<DatabaseRolesFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task TheAppRoleWritesImportsSyncsRevertsPrunesAndErases()
    {
        var indexes = await AdminScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE tablename = 'customers'");

        // An import into the empty customers table: as the owner, its sync would drop the
        // secondary indexes and build them again; the app role keeps them up row by row.
        var (a, b) = (TestPhones.New(), TestPhones.New());
        var import = await _client.PostAsync("/api/orders/import", new StringContent(
            $$"""{"customerName":"Роль А","customerPhone":"{{a}}","customerEmail":"role-a@example.org","totalAmount":100,"status":"completed"}""",
            Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.Accepted, import.StatusCode);
        await _client.JobAsync((string)(await import.ReadJsonAsync())["jobId"]!);
        Assert.Equal(indexes, await AdminScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE tablename = 'customers'"));
        Assert.Equal(0L, await AdminScalarAsync<long>("SELECT count(*) FROM deferred_indexes"));

        var order = await _client.PostAsJsonAsync("/api/orders",
            new { customerName = "Роль Б", customerPhone = b, totalAmount = 50, status = "completed" });
        Assert.Equal(HttpStatusCode.Created, order.StatusCode);
        await _client.JobAsync((string)(await order.ReadJsonAsync())["syncJobId"]!);
        var run = await _client.FullSyncRunAsync("force");
        foreach (var path in new[] { $"/api/sync/runs/{run}/revert", "/api/categories/recalculate" })
        {
            var accepted = await _client.PostAsync(path, null);
            Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, path);
            await _client.JobAsync((string)(await accepted.ReadJsonAsync())["jobId"]!);
        }
        var customerA = (long)(await _client.CustomerByPhoneAsync(a))!["id"]!;

        // prune-ledger: a change past Crm:Ledger:RetentionDays goes, a personal value past
        // Crm:Ledger:PersonalValueRetentionDays is redacted, both as crm_ledger_prune.
        var old = await AdminScalarAsync<long>("""
            INSERT INTO customer_changes (customer_id, field, old_value, new_value, changed_at, source)
            VALUES (@id, 'city', '"Омск"', '"Томск"', now() - interval '20 years', 'api:test') RETURNING id
            """, ("id", customerA));
        var personal = await AdminScalarAsync<long>("""
            INSERT INTO customer_changes (customer_id, field, old_value, new_value, changed_at, source)
            VALUES (@id, 'email', '"old@example.org"', '"role-a@example.org"', now() - interval '200 days', 'api:test') RETURNING id
            """, ("id", customerA));
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<LedgerJobs>().PruneAsync(CancellationToken.None);
            Assert.True(result.PrunedCount >= 1 && result.RedactedCount >= 1, $"{result}");
        }
        Assert.Equal(0L, await AdminScalarAsync<long>("SELECT count(*) FROM customer_changes WHERE id = @id", ("id", old)));
        Assert.Equal(1L, await AdminScalarAsync<long>(
            "SELECT count(*) FROM customer_changes WHERE id = @id AND old_value IS NULL AND new_value IS NULL", ("id", personal)));

        // The erase redacts the person's ledger rows, as crm_ledger_prune too.
        var erase = await _client.PostAsync($"/api/customers/{customerA}/erase", null);
        Assert.Equal(HttpStatusCode.Accepted, erase.StatusCode);
        await _client.JobAsync((string)(await erase.ReadJsonAsync())["jobId"]!);
        Assert.Equal(0L, await AdminScalarAsync<long>("""
            SELECT count(*) FROM customer_changes
            WHERE customer_id = @id AND field = ANY(@fields) AND (old_value IS NOT NULL OR new_value IS NOT NULL)
            """, ("id", customerA), ("fields", CustomerChange.PersonalFields)));
        Assert.Null(await _client.CustomerByPhoneAsync(a));
        Assert.NotNull(await _client.CustomerByPhoneAsync(b));
    }

    [Theory]
    [InlineData("CREATE TABLE intruder (id int)")]
    [InlineData("CREATE SCHEMA intruder")]
    [InlineData("CREATE INDEX ON orders (customer_name)")]
    [InlineData("ALTER TABLE customers ADD COLUMN intruder int")]
    [InlineData("DROP TABLE orders")]
    [InlineData("DROP SCHEMA hangfire CASCADE")]
    [InlineData("DROP FUNCTION crm_record_customer_changes() CASCADE")]
    [InlineData("TRUNCATE orders")]
    [InlineData("UPDATE customer_changes SET old_value = NULL, new_value = NULL")]
    [InlineData("DELETE FROM customer_changes")]
    [InlineData("TRUNCATE customer_changes")]
    [InlineData("DELETE FROM __ef_migrations_history")]
    public async Task TheAppRoleCannotChangeTheSchemaNorTheLedger(string sql)
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    [Fact]
    public async Task TheLedgerIsReadAndAppendedToByTheAppRole()
    {
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO customer_changes (customer_id, field, changed_at, source) VALUES (-1, 'created', now(), 'api:test');
            SELECT count(*) FROM customer_changes WHERE customer_id = -1
            """, connection);
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    // On a server that has the roles (an existing deployment), the script only sets the passwords.
    [Fact]
    public async Task TheRolesScriptRunsAgain()
    {
        await factory.RunRolesScriptAsync();
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        Assert.Equal("crm_app", await new NpgsqlCommand("SELECT current_user", connection).ExecuteScalarAsync());
    }

    private async Task<T> AdminScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(factory.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
