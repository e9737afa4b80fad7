using System.Globalization;

namespace Crm.Bench.Http;

public sealed class BenchOptions
{
    public static readonly string[] AllPhases = ["latency", "csv", "peer", "burst", "noop", "pickup"];

    // Not in the default run: --explain adds it.
    public const string ExplainPhase = "explain";

    // Not in the default run either (issue 23, section 5): --phases enqueue.
    public const string EnqueuePhase = "enqueue";
    // Not in the default run either (minutes): --phases soak.
    public const string SoakPhase = "soak";

    public string Root { get; private set; } = Directory.GetCurrentDirectory();
    public string? AppDll { get; private set; }
    public int DurationSeconds { get; private set; } = 10;
    public int WarmupSeconds { get; private set; } = 2;
    public int Runs { get; private set; } = 3;
    public int Customers { get; private set; } = 200_000;
    public int BurstWrites { get; private set; } = 10_000;
    public int BurstCustomers { get; private set; } = 2_000;
    public int BurstClients { get; private set; } = 8;
    public int NoopJobs { get; private set; } = 5_000;
    public int PickupSamples { get; private set; } = 50;
    public int EnqueueRounds { get; private set; } = 3;
    public int EnqueueRate { get; private set; } = 50;
    public int CostJobs { get; private set; } = 200;
    public int SoakSeconds { get; private set; } = 100;
    public Dictionary<string, string> AppEnvironment { get; } = [];
    public bool ReuseDatabase { get; private set; }
    public HashSet<string> Phases { get; private set; } = [.. AllPhases];

    public const string Usage = """
        usage: Crm.Bench.Http [options]        (normally through bench/http.sh)
          --root DIR             repository root (default: current directory)
          --app DLL              the Crm.Api.dll to run (default: ROOT/Crm.Api/bin/Release/net10.0/Crm.Api.dll)
          --duration S           seconds per wrk run (default 10)
          --warmup S             seconds of warm-up per endpoint before it is measured (default 2)
          --runs N               interleaved get-by-id runs of the app and the bare peer (default 3)
          --customers N          customers in the table (default 200000)
          --burst-writes N       order writes in the burst (default 10000)
          --burst-customers N    customers the burst writes for (default 2000)
          --burst-clients N      concurrent HTTP clients of the burst (default 8)
          --noop-jobs N          no-op Hangfire jobs per throughput measurement (default 5000)
          --pickup-samples N     job pick-up samples per setting (default 50)
          --enqueue-rounds N     rounds of the enqueue phase, old and new settings alternately (default 3)
          --enqueue-rate N       requests per second of its steady-rate run (default 50)
          --cost-jobs N          jobs whose statements and commits it counts (default 200)
          --phases LIST          comma-separated subset of: latency,csv,peer,burst,noop,pickup,explain,enqueue,soak
                                 (default: all but explain, enqueue and soak)
          --soak-seconds S       how long the soak writes (default 100; a worker killed every 25 s)
          --explain              also print EXPLAIN (ANALYZE, BUFFERS) of the list and search queries
          --app-env KEY=VALUE    extra environment of the app's processes, for experiments
                                 (e.g. OTEL_SDK_DISABLED=true); repeatable
          --reuse-db             keep the database of an earlier run if it has the customers (development)
        environment: CRM_BENCH_POSTGRES  admin connection string of the PostgreSQL server to use
        """;

    // Null (after printing why) when the arguments are not understood.
    public static BenchOptions? Parse(string[] args)
    {
        var options = new BenchOptions();
        var explain = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Positive() => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n
                : throw new ArgumentException($"{args[i - 1]} needs a positive whole number");
            try
            {
                switch (args[i])
                {
                    case "--root": options.Root = Path.GetFullPath(Value()); break;
                    case "--app": options.AppDll = Path.GetFullPath(Value()); break;
                    case "--duration": options.DurationSeconds = Positive(); break;
                    case "--warmup": options.WarmupSeconds = int.Parse(Value(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                    case "--runs": options.Runs = Positive(); break;
                    case "--customers": options.Customers = Positive(); break;
                    case "--burst-writes": options.BurstWrites = Positive(); break;
                    case "--burst-customers": options.BurstCustomers = Positive(); break;
                    case "--burst-clients": options.BurstClients = Positive(); break;
                    case "--noop-jobs": options.NoopJobs = Positive(); break;
                    case "--pickup-samples": options.PickupSamples = Positive(); break;
                    case "--enqueue-rounds": options.EnqueueRounds = Positive(); break;
                    case "--enqueue-rate": options.EnqueueRate = Positive(); break;
                    case "--cost-jobs": options.CostJobs = Positive(); break;
                    case "--soak-seconds": options.SoakSeconds = Positive(); break;
                    case "--phases":
                        options.Phases = [.. Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                        if (options.Phases.Except([.. AllPhases, ExplainPhase, EnqueuePhase, SoakPhase]).FirstOrDefault() is { } unknown)
                            throw new ArgumentException($"unknown phase '{unknown}'");
                        break;
                    case "--explain": explain = true; break;
                    case "--app-env":
                        var pair = Value().Split('=', 2);
                        if (pair.Length != 2 || pair[0] == "")
                            throw new ArgumentException("--app-env needs KEY=VALUE");
                        options.AppEnvironment[pair[0]] = pair[1];
                        break;
                    case "--reuse-db": options.ReuseDatabase = true; break;
                    case "--help" or "-h": Console.WriteLine(Usage); return null;
                    default: throw new ArgumentException($"unknown option '{args[i]}'");
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                Console.Error.WriteLine($"Crm.Bench.Http: {e.Message}");
                Console.Error.WriteLine(Usage);
                return null;
            }
        }
        if (explain)
            options.Phases.Add(ExplainPhase);
        if (options.BurstCustomers > options.Customers)
        {
            Console.Error.WriteLine("Crm.Bench.Http: --burst-customers cannot exceed --customers");
            return null;
        }
        return options;
    }

    public bool Has(string phase) => Phases.Contains(phase);
}
