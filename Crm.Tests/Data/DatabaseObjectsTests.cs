using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Data;

// Every function and trigger of the schema has its current definition in
// Crm.Jobs/Data/Sql/<name>.sql, so a newcomer reads one file instead of the migrations that
// built it up. The migrated database is the truth: a migration that changes an object without
// its file (or a file changed without a migration) fails here.
public class DatabaseObjectsTests
{
    // Our own objects: not those of an extension (pg_trgm's functions live in public too).
    private const string ObjectsSql = """
        SELECT p.proname, pg_get_functiondef(p.oid)
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
        UNION ALL
        SELECT t.tgname, pg_get_triggerdef(t.oid, true)
        FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND NOT t.tgisinternal
        """;

    private static readonly string SqlFolder = Path.Combine(PrivatePostgres.RepoRoot(), "Crm.Jobs", "Data", "Sql");

    [Fact]
    public async Task EveryFunctionAndTriggerHasItsFileAndEveryFileItsObject()
    {
        var name = await TestDatabase.CreateAsync();
        try
        {
            await using var connection = await OpenAsync(name);
            var objects = await DefinitionsAsync(connection, null);

            var files = Directory.GetFiles(SqlFolder, "*.sql").Select(Path.GetFileNameWithoutExtension).Order().ToList();
            Assert.NotEmpty(files);
            Assert.Equal(objects.Keys.Order(), files);
        }
        finally
        {
            await TestDatabase.DropAsync(name);
        }
    }

    [Fact]
    public async Task EachFileDefinesItsObjectExactlyAsTheMigrationsLeftIt()
    {
        var name = await TestDatabase.CreateAsync();
        try
        {
            await using var connection = await OpenAsync(name);
            var migrated = await DefinitionsAsync(connection, null);

            // Run the files over the migrated objects (CREATE OR REPLACE): where a file says
            // something else, the definition the database prints changes.
            await using var transaction = await connection.BeginTransactionAsync();
            var files = Directory.GetFiles(SqlFolder, "*.sql")
                .OrderBy(f => File.ReadAllText(f).Contains("CREATE OR REPLACE FUNCTION") ? 0 : 1)
                .ThenBy(f => f, StringComparer.Ordinal);
            foreach (var file in files)
            {
                await using var command = new NpgsqlCommand(await File.ReadAllTextAsync(file), connection, transaction);
                await command.ExecuteNonQueryAsync();
            }
            var fromFiles = await DefinitionsAsync(connection, transaction);
            await transaction.RollbackAsync();

            foreach (var (objectName, definition) in migrated)
                Assert.True(definition == fromFiles[objectName],
                    $"Crm.Jobs/Data/Sql/{objectName}.sql differs from the migrated database.\n--- migrated:\n{definition}\n--- file:\n{fromFiles[objectName]}");
        }
        finally
        {
            await TestDatabase.DropAsync(name);
        }
    }

    private static async Task<NpgsqlConnection> OpenAsync(string database)
    {
        var connection = new NpgsqlConnection(TestDatabase.ConnectionStringFor(database));
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<Dictionary<string, string>> DefinitionsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        await using var command = new NpgsqlCommand(ObjectsSql, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync();
        var definitions = new Dictionary<string, string>();
        while (await reader.ReadAsync())
            definitions.Add(reader.GetString(0), reader.GetString(1));
        return definitions;
    }
}
