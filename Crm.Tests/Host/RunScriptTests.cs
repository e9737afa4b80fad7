using System.Net;
using System.Net.Sockets;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Host;

// ./run.sh as a newcomer meets it in a fresh checkout: as root in a directory the postgres
// user cannot enter (a clone under /root), it starts its database, answers through its own
// psql verb with nothing but the answer on stdout, and stops and forgets it again.
public class RunScriptTests
{
    [Fact]
    public async Task DbPsqlStopAndResetWorkFromAPrivateCheckout()
    {
        var checkout = Directory.CreateTempSubdirectory("crm-run-sh-");
        try
        {
            // The scripts are all these verbs need (they neither build nor run the app).
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(checkout.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var root = PrivatePostgres.RepoRoot();
            File.Copy(Path.Combine(root, "run.sh"), Path.Combine(checkout.FullName, "run.sh"));
            Directory.CreateDirectory(Path.Combine(checkout.FullName, "scripts"));
            foreach (var file in Directory.GetFiles(Path.Combine(root, "scripts")))
                File.Copy(file, Path.Combine(checkout.FullName, "scripts", Path.GetFileName(file)));
            var environment = new Dictionary<string, string> { ["CRM_PG_PORT"] = FreePort().ToString() };

            try
            {
                var db = await RunAsync(checkout, environment, "db");
                Assert.StartsWith("Host=127.0.0.1;Port=", db.StandardOutput.Trim());
                Assert.DoesNotContain("\n", db.StandardOutput.Trim());

                var psql = await RunAsync(checkout, environment, "psql", "-tA", "-c", "SELECT current_database()");
                Assert.Equal("crm", psql.StandardOutput.Trim());

                await RunAsync(checkout, environment, "stop");
                var status = await RunAsync(checkout, environment, "status");
                Assert.Contains("PostgreSQL is stopped", status.StandardOutput);
            }
            finally
            {
                await RunAsync(checkout, environment, "reset");
            }
            var after = await RunAsync(checkout, environment, "status");
            Assert.Contains("No local PostgreSQL data directory yet", after.StandardOutput);
        }
        finally
        {
            checkout.Delete(recursive: true);
        }
    }

    private static async Task<ProcessResult> RunAsync(DirectoryInfo checkout, Dictionary<string, string> environment, params string[] args)
    {
        var result = await ChildProcess.RunAsync(Path.Combine(checkout.FullName, "run.sh"), checkout.FullName, environment,
            TimeSpan.FromMinutes(3), args);
        Assert.True(result.ExitCode == 0, $"./run.sh {string.Join(' ', args)} exited with {result.ExitCode}: {result.Output}");
        return result;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
