using Microsoft.AspNetCore.Hosting;
using Npgsql;

namespace Crm.Tests.Infrastructure;

// The app as a deployment runs it (docker-compose.yml): an empty database given the roles by
// deploy/postgres/initdb/01-roles.sh, the real `migrate` command run as crm_owner, then the app
// (all roles in one process) connected as crm_app with the ledger prune role set.
public class DatabaseRolesFactory : CrmApiFactory
{
    public const string OwnerPassword = "test-only-owner-password";
    public const string AppPassword = "test-only-app-password";
    public const string LedgerPruneRole = "crm_ledger_prune";

    public static string RolesScript => Path.Combine(PrivatePostgres.RepoRoot(), "deploy", "postgres", "initdb", "01-roles.sh");

    public override string ConnectionString => As("crm_app", AppPassword);

    public string OwnerConnectionString => As("crm_owner", OwnerPassword);

    // The test server's superuser, for arranging rows the app may not write and for checks.
    public string AdminConnectionString => TestDatabase.ConnectionStringFor(DatabaseName);

    public override bool UsesFakeClock => false;

    public override async Task InitializeAsync()
    {
        var name = $"crm_roles_{Guid.NewGuid():N}";
        await TestDatabase.CreateEmptyAsync(name);
        DatabaseName = name;
        await RunRolesScriptAsync();
        var (exitCode, output) = await AppProcess.RunAsync(OwnerConnectionString,
            [("Crm__Database__AppRole", "crm_app"), ("Crm__Database__LedgerPruneRole", LedgerPruneRole)],
            CommandDatabase.Timeout, "migrate");
        Assert.True(exitCode == 0, $"migrate as crm_owner exited {exitCode}: {output}");
    }

    // The script as PostgreSQL's image runs it, against this database of the test server.
    public async Task RunRolesScriptAsync()
    {
        var admin = new NpgsqlConnectionStringBuilder(TestDatabase.AdminConnectionString);
        var (exitCode, output) = await ChildProcess.RunAsync("bash", PrivatePostgres.RepoRoot(), new Dictionary<string, string>
        {
            ["POSTGRES_USER"] = admin.Username!, ["POSTGRES_DB"] = DatabaseName,
            ["PGHOST"] = admin.Host!, ["PGPORT"] = admin.Port.ToString(), ["PGPASSWORD"] = admin.Password!,
            ["CRM_DB_OWNER_PASSWORD"] = OwnerPassword, ["CRM_DB_PASSWORD"] = AppPassword,
        }, TimeSpan.FromMinutes(1), RolesScript);
        Assert.True(exitCode == 0, $"{RolesScript} exited {exitCode}: {output}");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crm:Database:LedgerPruneRole", LedgerPruneRole);
    }

    private string As(string role, string password) =>
        new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionStringFor(DatabaseName)) { Username = role, Password = password }.ConnectionString;
}
