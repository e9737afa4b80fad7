using Crm.Tests.Infrastructure;

namespace Crm.Tests.Host;

// docker-compose.yml as compose reads it, without an engine (docker-compose v1 from Debian,
// which ./test.sh installs): the file parses, and it refuses to run without its secrets.
public class ComposeFileTests
{
    private const string Compose = "/usr/bin/docker-compose";

    private static readonly Dictionary<string, string> Secrets = new()
    {
        ["CRM_DB_SUPERUSER_PASSWORD"] = "test-only-superuser-password",
        ["CRM_DB_OWNER_PASSWORD"] = "test-only-owner-password",
        ["CRM_DB_PASSWORD"] = "test-only-db-password",
        ["CRM_ADMIN_KEY"] = "test-only-admin-key-0000",
        ["CRM_READER_KEY"] = "test-only-reader-key-0000",
        ["CRM_HASH_KEY"] = "test-only-privacy-hash-key-0123456789",
    };

    [Fact]
    public async Task TheComposeFileIsValid()
    {
        var (exitCode, output) = await ConfigAsync(Secrets);
        Assert.True(exitCode == 0, $"docker-compose config -q failed ({exitCode}): {output}");
    }

    [Theory]
    [InlineData("CRM_DB_SUPERUSER_PASSWORD")]
    [InlineData("CRM_DB_OWNER_PASSWORD")]
    [InlineData("CRM_DB_PASSWORD")]
    [InlineData("CRM_ADMIN_KEY")]
    [InlineData("CRM_READER_KEY")]
    [InlineData("CRM_HASH_KEY")]
    public async Task ComposeRefusesToStartWithoutASecret(string missing)
    {
        var environment = Secrets.Where(s => s.Key != missing).ToDictionary();
        environment[missing] = "";
        var (exitCode, output) = await ConfigAsync(environment);
        Assert.NotEqual(0, exitCode);
        Assert.Contains(missing, output);
    }

    // Plain HTTP with a Basic password in it: published on the loopback interface unless the
    // operator says otherwise, behind a TLS proxy.
    [Fact]
    public async Task TheApiIsPublishedOnLoopbackByDefault()
    {
        var (exitCode, output) = await ConfigAsync(Secrets, quiet: false);
        Assert.True(exitCode == 0, output);
        Assert.Contains("- 127.0.0.1:8080:8080/tcp", output);

        var everywhere = new Dictionary<string, string>(Secrets) { ["CRM_HTTP_BIND"] = "0.0.0.0", ["CRM_HTTP_PORT"] = "9090" };
        (exitCode, output) = await ConfigAsync(everywhere, quiet: false);
        Assert.True(exitCode == 0, output);
        Assert.Contains("- 0.0.0.0:9090:8080/tcp", output);
    }

    // Least privilege (docs/SECURITY.md#database-roles): PostgreSQL creates the roles from the
    // repo's script, `migrate` connects as the owner and grants the app role, the API and the
    // workers connect as the app role with the ledger prune role set; nobody as the superuser.
    [Fact]
    public async Task MigrateConnectsAsTheOwnerAndTheAppAsTheAppRole()
    {
        var services = await ServicesAsync(Secrets);

        Assert.Contains($"- {Path.GetDirectoryName(DatabaseRolesFactory.RolesScript)}:/docker-entrypoint-initdb.d:ro", services["postgres"]);
        Assert.True(File.Exists(DatabaseRolesFactory.RolesScript), DatabaseRolesFactory.RolesScript);
        Assert.Contains("Username=crm_owner;Password=test-only-owner-password", services["migrate"]);
        Assert.Contains("Crm__Database__AppRole: crm_app", services["migrate"]);
        foreach (var name in new[] { "api", "worker-1", "worker-2" })
        {
            Assert.Contains("Username=crm_app;Password=test-only-db-password", services[name]);
            Assert.Contains($"Crm__Database__LedgerPruneRole: {DatabaseRolesFactory.LedgerPruneRole}", services[name]);
            Assert.DoesNotContain("Crm__Database__AppRole", services[name]);
        }
        foreach (var (name, text) in services.Where(s => s.Key != "postgres"))
        {
            Assert.DoesNotContain("Username=postgres", text);
            Assert.DoesNotContain("test-only-superuser-password", text);
        }
    }

    // The shop's connection string names a role with REPLICATION (docs/SHOP.md): only the
    // processes that follow the shop get it; the internet-facing API reads the follower's row.
    [Fact]
    public async Task OnlyTheWorkersGetTheShopConnectionString()
    {
        const string shop = "Host=shop.internal;Database=shop;Username=crm_follower;Password=test-only-shop-password";
        var services = await ServicesAsync(new Dictionary<string, string>(Secrets) { ["CRM_SHOP_CONNECTION_STRING"] = shop });

        Assert.Contains($"Crm__Shop__ConnectionString: {shop}", services["worker-1"]);
        Assert.Contains($"Crm__Shop__ConnectionString: {shop}", services["worker-2"]);
        foreach (var name in new[] { "api", "migrate", "postgres" })
        {
            Assert.DoesNotContain("Crm__Shop__ConnectionString", services[name]);
            Assert.DoesNotContain("test-only-shop-password", services[name]);
        }
    }

    // Each service's block of `docker-compose config`, by name.
    private static async Task<Dictionary<string, string>> ServicesAsync(Dictionary<string, string> environment)
    {
        var (exitCode, output) = await ConfigAsync(environment, quiet: false);
        Assert.True(exitCode == 0, output);
        var services = new Dictionary<string, string>();
        var (section, service) = ("", "");
        foreach (var line in output.Split('\n'))
        {
            if (line.Length > 0 && line[0] != ' ')
                (section, service) = (line.TrimEnd(':'), "");
            else if (section == "services" && line.StartsWith("  ", StringComparison.Ordinal) && line.Length > 2 && line[2] != ' ')
                service = line.Trim().TrimEnd(':');
            if (service.Length > 0)
                services[service] = services.GetValueOrDefault(service, "") + line + "\n";
        }
        return services;
    }

    private static async Task<ProcessResult> ConfigAsync(Dictionary<string, string> environment, bool quiet = true)
    {
        Assert.True(File.Exists(Compose), $"{Compose} is missing: install the Debian package docker-compose (./test.sh does).");
        // A developer's .env beside the file would fill in what the test leaves out: read an empty one.
        var root = PrivatePostgres.RepoRoot();
        var envFile = Path.GetTempFileName();
        try
        {
            string[] args = ["--project-directory", root, "-f", Path.Combine(root, "docker-compose.yml"), "--env-file", envFile, "config"];
            return await ChildProcess.RunAsync(Compose, root, environment, TimeSpan.FromMinutes(2), quiet ? [.. args, "-q"] : args);
        }
        finally
        {
            File.Delete(envFile);
        }
    }
}
