using System.Diagnostics;
using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Tests.Infrastructure;

// A PostgreSQL server of the test's own, for tests that stop and start it: never the shared
// test server. Started with the repo's scripts/pg.sh helpers (as ./test.sh starts its own),
// on a free port in a temporary directory, as root (server runs as `postgres`) or not.
public sealed class PrivatePostgres : IAsyncDisposable
{
    public const string Password = "postgres";

    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromMinutes(2);

    private readonly string _work;
    private readonly string _dataDir;

    public int Port { get; private set; }

    private PrivatePostgres(string work)
    {
        _work = work;
        _dataDir = Path.Combine(work, "pg");
    }

    public string AdminConnectionString => ConnectionStringFor("postgres");

    public string ConnectionStringFor(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = Port, Username = "postgres", Password = Password, Database = database,
        IncludeErrorDetail = true,
    }.ConnectionString;

    // initdb + start on a free port (another port if that one is taken meanwhile), with
    // extra postgresql.conf lines if given ("wal_level = logical").
    public static async Task<PrivatePostgres> StartAsync(params string[] settings)
    {
        var extra = string.Join(" ", settings.Select(line => "'" + line.Replace("'", "'\\''") + "'"));
        // Short: the socket path must fit 107 bytes, and /tmp is reachable by the postgres user.
        var server = new PrivatePostgres(Path.Combine("/tmp", $"crm-pg-{Guid.NewGuid():N}"[..18]));
        try
        {
            await server.StartOnFreePortAsync($$"""
                pg_init_cluster "$CRM_PG_DIR" "$CRM_PG_PASSWORD" "max_connections = 100" "fsync = off" \
                    "synchronous_commit = off" "full_page_writes = off" {{extra}}
                """);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    // Makes the data directory (the given script), then starts it on a free port (another port
    // if that one is taken meanwhile).
    private Task StartOnFreePortAsync(string makeDataDirectory) => RunAsync($$"""
        pg_prepare_dir "$CRM_PG_WORK" || exit 1
        {{makeDataDirectory}} || exit 1
        for attempt in 1 2 3; do
            port="$(pg_free_port)" || exit 1
            if pg_start "$CRM_PG_DIR" "$port" ""; then echo "PORT=$port"; exit 0; fi
        done
        exit 1
        """, output => Port = int.Parse(output.Split('\n').Single(l => l.StartsWith("PORT=", StringComparison.Ordinal))[5..]));

    // pg_ctl stop -m fast: sessions are terminated, the port closes.
    public Task StopAsync() => RunAsync("""
        pg_as_owner "$PG_BIN/pg_ctl" stop -D "$CRM_PG_DIR" -m fast -w -t 60 -s
        """);

    // Start again on the same data directory and port.
    public Task StartAgainAsync() => RunAsync("""pg_start "$CRM_PG_DIR" "$CRM_PG_PORT" "" """);

    // SIGSTOP / SIGCONT to the postmaster and its children: a server that hangs (as behind a
    // network partition) instead of refusing connections.
    public Task FreezeAsync() => SignalAsync("STOP");

    public Task ThawAsync() => SignalAsync("CONT");

    private Task SignalAsync(string signal) => RunAsync($$"""
        postmaster="$(head -n 1 "$CRM_PG_DIR/postmaster.pid")" || exit 1
        kill -{{signal}} "$postmaster" $(ps -o pid= --ppid "$postmaster")
        """);

    // A streaming standby of this server (pg_basebackup -R), started on a free port of its own.
    // Asynchronous until MakeSynchronousAsync: the primary does not wait for it.
    public async Task<PrivatePostgres> StartStandbyAsync()
    {
        var standby = new PrivatePostgres(Path.Combine("/tmp", $"crm-pg-{Guid.NewGuid():N}"[..18]));
        try
        {
            await standby.StartOnFreePortAsync($"""pg_make_standby {Port} "$CRM_PG_PASSWORD" "$CRM_PG_DIR" """);
        }
        catch
        {
            await standby.DisposeAsync();
            throw;
        }
        return standby;
    }

    // From now on a commit here is acknowledged only once a standby has applied it.
    public Task MakeSynchronousAsync() => RunAsync("""pg_make_synchronous "$CRM_PG_PORT" "$CRM_PG_PASSWORD" """);

    // kill -9 of the postmaster: the server dies mid-work, as a machine that fails.
    public Task KillAsync() => RunAsync("""pg_kill "$CRM_PG_DIR" """);

    // A standby becomes a primary (pg_ctl promote); returns once it accepts writes.
    public Task PromoteAsync() => RunAsync("""pg_promote "$CRM_PG_DIR" """);

    // A database with the app's schema (EF Core migrations and Hangfire's tables).
    public async Task<string> CreateMigratedDatabaseAsync()
    {
        var name = $"crm_private_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }
        var options = new DbContextOptionsBuilder<CrmDbContext>();
        CrmDbContext.Configure(options, ConnectionStringFor(name));
        await using (var db = new CrmDbContext(options.Options))
            await CrmDatabase.MigrateAsync(db);
        return name;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await RunAsync("""pg_stop "$CRM_PG_DIR"; rm -rf "$CRM_PG_WORK" """);
        }
        catch (Exception e)
        {
            // Leaving a stray temp dir must not hide the test's own result.
            Console.Error.WriteLine($"PrivatePostgres: cleanup of {_work} failed: {e.Message}");
        }
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "crm-minimal.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No crm-minimal.sln above {AppContext.BaseDirectory}.");
    }

    // Runs a script with scripts/pg.sh sourced and PG_BIN found; throws with its output on failure.
    private async Task RunAsync(string script, Action<string>? onSuccess = null)
    {
        var root = RepoRoot();
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"""
            set -uo pipefail
            . "{Path.Combine(root, "scripts", "pg.sh")}" || exit 1
            pg_ensure_installed || exit 1
            {script}
            """);
        start.Environment["CRM_PG_WORK"] = _work;
        start.Environment["CRM_PG_DIR"] = _dataDir;
        start.Environment["CRM_PG_PASSWORD"] = Password;
        start.Environment["CRM_PG_PORT"] = Port.ToString();

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(ScriptTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"PostgreSQL script did not finish within {ScriptTimeout}: {script}");
        }
        var output = await stdout;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"PostgreSQL script failed ({process.ExitCode}): {script}\n{output}\n{await stderr}");
        onSuccess?.Invoke(output);
    }
}
