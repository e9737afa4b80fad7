using Crm.Tests.Infrastructure;

namespace Crm.Tests.Host;

// docker-compose.yml as compose reads it, without an engine (docker-compose v1 from Debian,
// which ./test.sh installs): the file parses, and it refuses to run without its secrets.
public class ComposeFileTests
{
    private const string Compose = "/usr/bin/docker-compose";

    private static readonly Dictionary<string, string> Secrets = new()
    {
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
