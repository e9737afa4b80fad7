using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Tests.Infrastructure;

// One migrated template per test run; every test class clones its own database from it
// (CREATE DATABASE ... TEMPLATE copies files, so a fresh schema costs milliseconds).
public static class TestDatabase
{
    private static readonly SemaphoreSlim TemplateLock = new(1, 1);
    private static string? _templateName;

    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable("CRM_TEST_POSTGRES")
        ?? throw new InvalidOperationException(
            "CRM_TEST_POSTGRES is not set: run the tests through ./test.sh, which starts a throwaway PostgreSQL.");

    // A connect timeout of its own: the suite shares two cores with Chromium and many hosts,
    // and fifty writes at once open fifty connections, which can take longer than the
    // production default of 2 s on a starved server (a 503). The outage tests run on a
    // server of their own (PrivatePostgres) and keep the production defaults.
    public static string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString)
        {
            Database = database,
            IncludeErrorDetail = true,
            Timeout = 15,
        }.ConnectionString;

    public static async Task<string> CreateAsync()
    {
        var template = await EnsureTemplateAsync();
        var name = $"crm_test_{Guid.NewGuid():N}";
        await ExecuteAdminAsync($"CREATE DATABASE {name} TEMPLATE {template}");
        return name;
    }

    public static async Task CreateEmptyAsync(string name) => await ExecuteAdminAsync($"CREATE DATABASE {name}");

    public static async Task DropAsync(string name)
    {
        ClearPool(name);
        await ExecuteAdminAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    private static async Task<string> EnsureTemplateAsync()
    {
        await TemplateLock.WaitAsync();
        try
        {
            if (_templateName is not null)
                return _templateName;

            var name = $"crm_template_{Environment.ProcessId}";
            await ExecuteAdminAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            await ExecuteAdminAsync($"CREATE DATABASE {name}");
            var options = new DbContextOptionsBuilder<CrmDbContext>();
            CrmDbContext.Configure(options, ConnectionStringFor(name));
            await using (var db = new CrmDbContext(options.Options))
                await CrmDatabase.MigrateAsync(db);
            // A template must have no open connections while it is cloned.
            ClearPool(name);
            _templateName = name;
            return name;
        }
        finally
        {
            TemplateLock.Release();
        }
    }

    private static void ClearPool(string database)
    {
        using var connection = new NpgsqlConnection(ConnectionStringFor(database));
        NpgsqlConnection.ClearPool(connection);
    }

    private static async Task ExecuteAdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
