namespace Crm.Bench;

public sealed record BenchOptions(
    string Postgres,
    string AppDll,
    string ResultsDir,
    string WorkDir,
    int Orders,
    int? Phones,
    int SeedSlice,
    bool SeedFull,
    int Runs,
    int Chunk,
    int ImportBudgetSeconds,
    int JobTimeoutMinutes,
    IReadOnlyList<int> Scale,
    bool Explain,
    string? ServerLog,
    string? Revision,
    IReadOnlySet<string> Skip,
    int LeanFrom,
    IReadOnlySet<string> LeanSkip,
    bool Ledger,
    bool LedgerBreakdown,
    int MaxWaitSeconds,
    bool Webhooks,
    int Moved,
    bool Lanes = false,
    string? BaselineApp = null)
{
    // Phases --skip and --lean-skip may name. The single-request NDJSON import, the syncs and
    // the reference statement always run: every ratio and every later phase needs them.
    public static readonly string[] Phases =
    [
        "generate",           // client: the cost of generating the NDJSON and CSV bodies
        "chunked-import",     // the import in --chunk requests, each request's pending sync awaited
        "csv-import",         // the single-request CSV import
        "reads",              // GET /api/customers/{id} and /orders, sequential
        "stats-job",          // one customer's statistics job, request → Succeeded → exact
        "stats-job-phones",   // the same for customers with 3 phones, 2 added through the API (issue 24)
        "merge",              // merging two customers of 1 000 orders each and the unmerge, request → exact (issue 24)
        "writes",             // single order writes, request → customer exact
        "writes-during-sync", // single order writes while a full sync runs
        "write-window",       // idle single writes and a 10 000-write burst, adaptive vs fixed window (issue 23)
        "erase",              // one person's erase (1 000 orders and their ledger), request → Succeeded → gone
        "seed-slice",         // the Django CRM's algorithm on the slice (and its comparison)
    ];

    public const string Usage = """
        usage: Crm.Bench --postgres <admin connection string> [options]

          --orders N          orders to generate (default 1000000)
          --phones P          distinct phones (default orders/5)
          --seed-slice N      orders in the slice the seed's algorithm runs on (default 20000)
          --seed-full         also run the seed's algorithm on the full set (slow: minutes per 100k customers)
          --runs R            runs per timed figure; the median is reported (default 3, at least 1)
          --chunk N           orders per import request (default 200000)
          --import-budget S   time box of the import runs in seconds: no further run once it would exceed S (default 420)
          --job-timeout M     a job still unfinished after M minutes fails the bench (default 15)
          --scale A,B,C       repeat the data-dependent measurements at these order counts, print a scaling table
          --explain           print EXPLAIN (ANALYZE, BUFFERS) of the reference statement
                              (with --ledger: the plans of one customer's statistics job, the trigger's INSERT included)
          --ledger            measure the change ledger's cost instead (bench/ledger.sh): first sync and a force
                              sync changing 10% of customers, ledger triggers on vs off; the dry run; the revert
          --webhooks          measure signed webhooks instead (bench/webhooks.sh): a recalculation that moves
                              --moved customers, with a subscription vs without; delivery to a receiver in this process
          --lanes             with --webhooks: webhook lanes instead (issue 23): 50 000 events to a 100 ms and an
                              immediate receiver, Crm:Webhooks:Lanes 8 against 1, --runs pairs
          --baseline-app PATH with --lanes: an older Crm.Api.dll measured alternately with --app, both at lanes 8
                              (bench/webhooks.sh --lanes --baseline REV builds one)
          --moved N           with --webhooks: customers the recalculation moves (default 50000; at most those with orders)
          --max-wait S        with --ledger or --webhooks: wait for test runs on the machine to end before each pair, S seconds in all (default 900; 0: never)
          --breakdown         with --ledger: where the ledger's time goes (trigger variants through the app, its INSERT by SQL)
          --skip LIST         phases not run at any size, comma-separated: generate, chunked-import,
                              csv-import, reads, stats-job, stats-job-phones, merge, writes, writes-during-sync, write-window,
                              erase, seed-slice
          --lean-from N       sizes of at least N orders also skip the --lean-skip phases (default 5000000)
          --lean-skip LIST    the phases skipped from --lean-from on (default generate,chunked-import)
          --app PATH          Crm.Api.dll (default: the Release build in this checkout)
          --results DIR       where the JSON goes (default: bench/results in this checkout)
          --work DIR          where the app's logs go (default: a temp directory)
          --server-log PATH   PostgreSQL's log file, for --explain's plans of the engine's statements
          --revision TEXT     the source revision measured, recorded in the JSON
        """;

    // The sizes measured: --scale if given, else --orders.
    public IReadOnlyList<int> Sizes => Scale.Count > 0 ? Scale : [Orders];

    public int PhonesFor(int orders) => Phones ?? Math.Max(1, orders / 5);

    // Whether a phase runs for a data set of this many orders.
    public bool Measures(string phase, int orders) => !Skipped(orders).Contains(phase);

    public IReadOnlyList<string> Skipped(int orders) =>
        Phases.Where(p => Skip.Contains(p) || (orders >= LeanFrom && LeanSkip.Contains(p))).ToList();

    // The Django CRM's slice runs once, not per size.
    public bool RunsSeedSlice => !Skip.Contains("seed-slice");

    public static BenchOptions Parse(string[] args)
    {
        string? postgres = null, app = null, baselineApp = null, results = null, work = null, serverLog = null, revision = null;
        int maxWait = 900;
        int orders = 1_000_000, seedSlice = 20_000, runs = 3, chunk = 200_000, importBudget = 420, jobTimeout = 15, leanFrom = 5_000_000;
        HashSet<string> skip = [], leanSkip = ["generate", "chunked-import"];
        int? phones = null;
        bool seedFull = false, explain = false, ledger = false, breakdown = false, webhooks = false, lanes = false;
        int moved = 50_000;
        List<int> scale = [];

        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Positive() => int.TryParse(Value(), out var n) && n > 0 ? n : throw new ArgumentException($"{args[i]} needs a positive integer");
            switch (args[i])
            {
                case "--postgres": postgres = Value(); break;
                case "--app": app = Value(); break;
                case "--baseline-app": baselineApp = Path.GetFullPath(Value()); break;
                case "--results": results = Value(); break;
                case "--work": work = Value(); break;
                case "--server-log": serverLog = Value(); break;
                case "--revision": revision = Value(); break;
                case "--orders": orders = Positive(); break;
                case "--phones": phones = Positive(); break;
                case "--seed-slice": seedSlice = Positive(); break;
                case "--seed-full": seedFull = true; break;
                case "--runs": runs = Positive(); break;
                case "--chunk": chunk = Positive(); break;
                case "--import-budget": importBudget = Positive(); break;
                case "--job-timeout": jobTimeout = Positive(); break;
                case "--explain": explain = true; break;
                case "--ledger": ledger = true; break;
                case "--breakdown": breakdown = true; break;
                case "--webhooks": webhooks = true; break;
                case "--lanes": lanes = true; break;
                case "--moved": moved = Positive(); break;
                case "--max-wait": maxWait = int.TryParse(Value(), out var w) && w >= 0 ? w : throw new ArgumentException("--max-wait needs a number of seconds"); break;
                case "--skip": skip = PhaseList(args[i], Value()); break;
                case "--lean-skip": leanSkip = PhaseList(args[i], Value()); break;
                case "--lean-from": leanFrom = Positive(); break;
                case "--scale":
                    var list = Value();
                    foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        scale.Add(int.TryParse(part, out var n) && n > 0 ? n : throw new ArgumentException($"--scale: '{part}' is not a positive integer"));
                    break;
                default: throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
        if (postgres is null)
            throw new ArgumentException("--postgres is required");

        var root = RepositoryRoot();
        return new BenchOptions(
            postgres,
            Path.GetFullPath(app ?? Path.Combine(root, "Crm.Api", "bin", "Release", "net10.0", "Crm.Api.dll")),
            Path.GetFullPath(results ?? Path.Combine(root, "bench", "results")),
            Path.GetFullPath(work ?? Directory.CreateTempSubdirectory("crm-bench.").FullName),
            orders, phones, seedSlice, seedFull, runs, chunk, importBudget, jobTimeout, scale, explain, serverLog, revision,
            skip, leanFrom, leanSkip, ledger, breakdown, maxWait, webhooks, moved, lanes, baselineApp);
    }

    private static HashSet<string> PhaseList(string option, string value)
    {
        var phases = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        foreach (var phase in phases)
        {
            if (!Phases.Contains(phase))
                throw new ArgumentException($"{option}: unknown phase '{phase}' (known: {string.Join(", ", Phases)})");
        }
        return phases;
    }

    // The checkout this build lives in: the directory above bench/Crm.Bench/bin/...
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "crm-minimal.sln")) || Directory.Exists(Path.Combine(dir.FullName, "Crm.Api")))
                return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
