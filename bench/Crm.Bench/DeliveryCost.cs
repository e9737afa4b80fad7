using System.Globalization;

namespace Crm.Bench;

// What one lanes measurement cost besides the receiver's wait, per message: PostgreSQL's
// statements (pg_stat_statements, when bench/run.sh preloaded it) and their server time, the
// write transactions (transaction ids assigned: each one a commit that flushes WAL), and the
// CPU of the app, of PostgreSQL (the postmaster and its children) and of this process (the
// receiver). The bench's own statements (the renames that make the events, these reads) are
// left out of the statements.
public sealed class DeliveryCost
{
    private const string OwnStatements = """
        query NOT LIKE 'UPDATE customers SET name%' AND query NOT LIKE '%pg_stat_statements%'
        AND query NOT LIKE '%txid_current_snapshot%'
        """;

    private readonly BenchDatabase _database;
    private readonly int _appPid;
    private readonly int? _postmasterPid;
    private readonly bool _statements;
    private long _xmax;
    private double _appCpu, _postgresCpu, _benchCpu;

    private DeliveryCost(BenchDatabase database, int appPid, int? postmasterPid, bool statements) =>
        (_database, _appPid, _postmasterPid, _statements) = (database, appPid, postmasterPid, statements);

    public static async Task<DeliveryCost> StartAsync(BenchDatabase database, int appPid, string? serverLog)
    {
        var statements = await database.ScalarAsync<bool>(
            "SELECT current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%'");
        if (statements)
            await database.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset();");
        var pidFile = serverLog is null ? null : Path.Combine(Path.GetDirectoryName(serverLog)!, "postmaster.pid");
        int? postmaster = pidFile is not null && File.Exists(pidFile) ? int.Parse(File.ReadLines(pidFile).First()) : null;
        var cost = new DeliveryCost(database, appPid, postmaster, statements);
        cost._xmax = await cost.XmaxAsync();
        (cost._appCpu, cost._postgresCpu, cost._benchCpu) = cost.Cpu();
        return cost;
    }

    // One line of totals per message, then the statements that took most server time.
    public async Task<List<string>> StopAsync(int messages, int ownWrites)
    {
        var (app, postgres, bench) = Cpu();
        var writes = await XmaxAsync() - _xmax - ownWrites;
        string PerMessage(double value) => (value / messages).ToString("F2", CultureInfo.InvariantCulture);
        var total = $"per message: {PerMessage(writes)} write transactions; CPU ms app {PerMessage(1000 * (app - _appCpu))}, " +
                    $"PostgreSQL {(_postmasterPid is null ? "?" : PerMessage(1000 * (postgres - _postgresCpu)))}, " +
                    $"bench (receiver) {PerMessage(1000 * (bench - _benchCpu))}";
        if (!_statements)
            return [total + "; statements: pg_stat_statements not preloaded"];
        var thisDb = $"dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND {OwnStatements}";
        total += "; statements " + await _database.ScalarAsync<string>($"""
            SELECT format('%s, server time %s ms', round(sum(calls)::numeric / {messages}, 2), round(sum(total_exec_time)::numeric / {messages}, 3))
            FROM pg_stat_statements WHERE {thisDb}
            """);
        var top = await _database.ScalarAsync<string>($"""
            SELECT string_agg(format('  %s calls/message, %s ms mean, %s ms/message: %s', round(calls::numeric / {messages}, 2),
                                     round(mean_exec_time::numeric, 3), round(total_exec_time::numeric / {messages}, 3),
                                     left(regexp_replace(query, '\s+', ' ', 'g'), 110)), E'\n' ORDER BY total_exec_time DESC)
            FROM (SELECT * FROM pg_stat_statements WHERE {thisDb} ORDER BY total_exec_time DESC LIMIT 10) s
            """);
        return [total, top];
    }

    // The next transaction id to be assigned; read without taking one.
    private Task<long> XmaxAsync() => _database.ScalarAsync<long>("SELECT txid_snapshot_xmax(txid_current_snapshot())");

    // Seconds of CPU (user + system) so far: the app, PostgreSQL's processes (the postmaster
    // with its reaped children and the live ones), this process.
    private (double App, double Postgres, double Bench) Cpu()
    {
        var postgres = 0.0;
        if (_postmasterPid is { } postmaster)
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid) || Stat(pid) is not { } stat)
                    continue;
                if (pid == postmaster)
                    postgres += stat.Own + stat.Children;
                else if (stat.Parent == postmaster)
                    postgres += stat.Own;
            }
        }
        return (Stat(_appPid)?.Own ?? double.NaN, postgres, System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds);
    }

    // /proc/<pid>/stat: the parent (field 4), utime + stime (14, 15) and cutime + cstime (16, 17), in seconds.
    private static (int Parent, double Own, double Children)? Stat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        // Fields after the command's closing parenthesis, from field 3 (state) on.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        double Ticks(int field) => long.Parse(fields[field - 3], CultureInfo.InvariantCulture) / 100.0;
        return (int.Parse(fields[4 - 3], CultureInfo.InvariantCulture), Ticks(14) + Ticks(15), Ticks(16) + Ticks(17));
    }
}
