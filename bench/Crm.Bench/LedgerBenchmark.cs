// Over 400 lines: the ledger benchmark's phases, each timed from outside, read as one script.
using System.Text.Json.Nodes;
using Npgsql;

namespace Crm.Bench;

// bench/ledger.sh (Crm.Bench --ledger): what the change ledger (the statement-level triggers on
// customers, migration ChangeLedger) costs the syncs a user waits for. Per size, on one loaded
// database and one running app, every figure from outside (POST → job Succeeded → data checked
// by SQL), the ledger's triggers enabled ("on") against disabled ("off", the baseline) in
// alternating pairs, so each pair gives a same-run ratio:
//   (a) the first full sync into an empty customers table (one 'created' row per customer);
//   (b) a force sync after 10% of the customers' latest orders got a new email and city
//       (one row per changed field);
//   (c) the dry run of that force sync against the real one, and the revert of the real one.
// --explain: the plans of one customer's statistics job with the ledger on (auto_explain,
// nested statements: the trigger's INSERT), to see that nothing scans a whole table.
public sealed class LedgerBenchmark(BenchOptions options, DateTime now)
{
    // The issue's budget: the ledger may cost at most 15% of what the user waits for.
    private static readonly Target Budget = Target.AtMost(1.15, "×");

    public List<FigureSet> Sets { get; } = [];
    public List<(string Title, string Text)> Explanations { get; } = [];

    public async Task RunAsync()
    {
        foreach (var orders in options.Sizes)
        {
            var data = new OrderGenerator(orders, options.PhonesFor(orders), now);
            await using var database = await BenchDatabase.CreateAsync(options.Postgres, "crm_bench_ledger");
            Sets.Add(await MeasureAsync(data, database));
        }
    }

    private async Task<FigureSet> MeasureAsync(OrderGenerator data, BenchDatabase database)
    {
        var set = new FigureSet($"{data.Orders:N0} orders", data.Orders, data.Phones);
        Benchmark.Log($"ledger: {data.Orders:N0} orders over {data.Phones:N0} phones");
        set.Facts["loadAverageAtStart"] = Report.LoadAverage();
        await using (var app = await AppUnderTest.StartAsync(options.AppDll, database.ConnectionString, AppLog($"app-ledger-{data.Orders}")))
        {
            // No autovacuum on the tables the syncs write, the ledger included: the bench
            // vacuums and analyses them itself between steps (BenchDatabase.SettleAsync).
            await database.DisableAutovacuumAsync();
            await database.ExecuteAsync("ALTER TABLE customer_changes SET (autovacuum_enabled = false)");
            await WarmUpAsync(data, database, app);

            await ResetAsync(database, orders: true);
            var copyMs = await database.CopyOrdersAsync(Range(data, 0, data.Orders), now);
            await database.SettleAsync("orders");
            var phones = await database.ScalarAsync<long>("SELECT count(DISTINCT normalized_phone) FROM orders");
            set.Facts["distinctPhones"] = phones;
            Benchmark.Log($"ledger: {data.Orders:N0} orders loaded by COPY in {copyMs / 1000:F1} s, {phones:N0} phones");
            // Untimed: the first run on a freshly loaded table (its first plans, its cold pages).
            await ResetAsync(database, orders: false);
            await SetLedgerAsync(database, true);
            await app.SyncAsync("default");

            await MeasureFirstSyncAsync(set, database, app, phones);
            await MeasureForceSyncAsync(set, database, app);
            await MeasureDryRunAndRevertAsync(set, database, app);
            await MeasureReadsAsync(set, database, app);
            set.Facts["ledgerRowsAtEnd"] = await database.ScalarAsync<long>("SELECT count(*) FROM customer_changes");
            set.Facts["ledgerTableMbAtEnd"] = Math.Round(await database.ScalarAsync<long>("SELECT pg_total_relation_size('customer_changes')") / 1048576.0, 1);
        }
        if (options.LedgerBreakdown)
            await BreakdownAsync(set, database, data);
        if (options.Explain)
            await ExplainStatisticsJobAsync(set, database);
        set.Facts["loadAverageAtEnd"] = Report.LoadAverage();
        return set;
    }

    // Untimed, on the first 20 000 orders: every kind of run measured below, both ways, so the
    // figures are a running service's, not a fresh process's JIT and plan cache.
    private async Task WarmUpAsync(OrderGenerator data, BenchDatabase database, AppUnderTest app)
    {
        await ResetAsync(database, orders: true);
        await database.CopyOrdersAsync(Range(data, 0, Math.Min(data.Orders, 20_000)), now);
        await database.SettleAsync("orders");
        foreach (var on in new[] { false, true })
        {
            await ResetAsync(database, orders: false);
            await SetLedgerAsync(database, on);
            await app.SyncAsync("default");
            await PickChangedAsync(database);
            await ChangeLatestOrdersAsync(database, 1);
            await app.SyncAsync("force");
        }
        await ChangeLatestOrdersAsync(database, 2);
        await app.RunJobAsync("/api/sync", new { mode = "force", dryRun = true });
        var real = await app.SyncAsync("force");
        await app.RunJobAsync($"/api/sync/runs/{await RunIdAsync(database, real.JobId)}/revert");
    }

    // (a) The first full sync into an empty customers table, ledger on and off in alternating
    // pairs; the last run of all is an "on" run, so the force syncs start from a ledger that
    // holds the customers' 'created' rows, as in production.
    private async Task MeasureFirstSyncAsync(FigureSet set, BenchDatabase database, AppUnderTest app, long phones)
    {
        var onWall = set.Get("first.on.wall", "first full sync, ledger on: wall, POST → Succeeded", "ms");
        var offWall = set.Get("first.off.wall", "first full sync, ledger off (baseline): wall", "ms");
        var onEngine = set.Get("first.on.engine", "first full sync, ledger on: engine time", "ms");
        var offEngine = set.Get("first.off.engine", "first full sync, ledger off: engine time", "ms");
        var ratioWall = set.Get("first.ratio.wall", "first full sync: on / off, wall, same pair", "×", Budget);
        var ratioEngine = set.Get("first.ratio.engine", "first full sync: on / off, engine time, same pair", "×", Budget);

        for (var pair = 1; pair <= options.Runs; pair++)
        {
            await WaitQuietAsync(set);
            var times = new Dictionary<bool, JobOutcome>();
            foreach (var on in PairOrder(pair))
            {
                await ResetAsync(database, orders: false);
                await SetLedgerAsync(database, on);
                await database.SettleAsync();
                var job = await app.SyncAsync("default");
                times[on] = job;
                (on ? onWall : offWall).Add(job.WallMs);
                (on ? onEngine : offEngine).Add(job.DurationMs);

                // Exact: one customer per phone, the same customers either way, and the ledger
                // holds one 'created' row per customer exactly when it is on.
                Check(set, "firstSyncCreated", job.Int("createdCount"), phones);
                Check(set, "firstSyncCustomers", await database.CountCustomersAsync(), phones);
                var runId = await RunIdAsync(database, job.JobId);
                Check(set, "firstSyncLedgerRows", await database.ScalarAsync<long>("SELECT count(*) FROM customer_changes"), on ? phones : 0);
                Check(set, "firstSyncLedgerCreatedRowsOfRun", await database.ScalarAsync<long>(
                    $"SELECT count(*) FROM customer_changes WHERE run_id = {runId} AND field = 'created' AND source = 'sync:default'"), on ? phones : 0);
                if (pair == 1 && times.Count == 1)
                    await database.SnapshotCustomersAsync("bench_ledger_first");
                else
                    Check(set, "firstSyncDifferencesBetweenRuns", await database.CountDifferencesAsync("bench_ledger_first"), 0);
                Benchmark.Log($"first sync, ledger {(on ? "on " : "off")}: wall {job.WallMs:F0} ms, engine {job.DurationMs:F0} ms (load {Report.LoadAverage()})");
            }
            ratioWall.Add(times[true].WallMs / times[false].WallMs);
            ratioEngine.Add(times[true].DurationMs / times[false].DurationMs);
        }
        set.Get("first.ratio.medians", "first full sync: median on / median off, wall", "×", derived: true)
            .Add(onWall.Median / offWall.Median);
        await database.ExecuteAsync("DROP TABLE bench_ledger_first");
    }

    // (b) A force sync after 10% of the customers' latest orders changed email and city, ledger
    // on and off in alternating pairs. Every run gets values of its own, so each changes exactly
    // those customers' two fields (their statistics and categories do not change).
    private async Task MeasureForceSyncAsync(FigureSet set, BenchDatabase database, AppUnderTest app)
    {
        var onWall = set.Get("force.on.wall", "force sync changing 10% of customers, ledger on: wall", "ms");
        var offWall = set.Get("force.off.wall", "force sync changing 10% of customers, ledger off: wall", "ms");
        var onEngine = set.Get("force.on.engine", "force sync changing 10%, ledger on: engine time", "ms");
        var offEngine = set.Get("force.off.engine", "force sync changing 10%, ledger off: engine time", "ms");
        var ratioWall = set.Get("force.ratio.wall", "force sync changing 10%: on / off, wall, same pair", "×", Budget);
        var ratioEngine = set.Get("force.ratio.engine", "force sync changing 10%: on / off, engine time, same pair", "×", Budget);

        var picked = await PickChangedAsync(database);
        set.Facts["forceChangedCustomers"] = picked;
        for (var pair = 1; pair <= options.Runs; pair++)
        {
            await WaitQuietAsync(set);
            var times = new Dictionary<bool, JobOutcome>();
            foreach (var on in PairOrder(pair))
            {
                var expected = await ChangeLatestOrdersAsync(database, 100 + pair * 2 + (on ? 1 : 0));
                await SetLedgerAsync(database, on);
                await database.SettleAsync("orders", "customers", "customer_changes");
                var job = await app.SyncAsync("force");
                times[on] = job;
                (on ? onWall : offWall).Add(job.WallMs);
                (on ? onEngine : offEngine).Add(job.DurationMs);
                await CheckForceAsync(set, database, job, expected, on);
                Benchmark.Log($"force sync (10%), ledger {(on ? "on " : "off")}: wall {job.WallMs:F0} ms, engine {job.DurationMs:F0} ms (load {Report.LoadAverage()})");
            }
            ratioWall.Add(times[true].WallMs / times[false].WallMs);
            ratioEngine.Add(times[true].DurationMs / times[false].DurationMs);
        }
        set.Get("force.ratio.medians", "force sync changing 10%: median on / median off, wall", "×", derived: true)
            .Add(onWall.Median / offWall.Median);
    }

    // (c) The dry run of the same force sync against the real one (ledger on), and the revert
    // of the real one. Odd runs: dry run, real run, revert; even runs: real run, revert, dry
    // run (after the revert the orders again differ from the customers in exactly the same
    // fields), so neither kind always comes first.
    private async Task MeasureDryRunAndRevertAsync(FigureSet set, BenchDatabase database, AppUnderTest app)
    {
        var dryWall = set.Get("dry.wall", "dry run of the force sync (10%): wall", "ms");
        var dryEngine = set.Get("dry.engine", "dry run of the force sync (10%): engine time", "ms");
        var realWall = set.Get("dry.real.wall", "the real force sync beside it: wall", "ms");
        var dryRatio = set.Get("dry.ratio.wall", "dry run / real force sync, wall, same run", "×");
        var revertWall = set.Get("revert.wall", "revert of the force sync's run: wall, POST → Succeeded", "ms");

        await SetLedgerAsync(database, true);
        for (var run = 1; run <= options.Runs; run++)
        {
            await WaitQuietAsync(set);
            var expected = await ChangeLatestOrdersAsync(database, 200 + run);
            await database.ExecuteAsync("""
                DROP TABLE IF EXISTS bench_before;
                CREATE TABLE bench_before AS
                SELECT c.id, c.email, c.city FROM customers c JOIN bench_changed b ON b.phone = c.phone;
                """);
            JobOutcome? dry = null;
            if (run % 2 == 1)
                dry = await DryRunAsync(set, database, app, expected);

            await database.SettleAsync("orders", "customers", "customer_changes");
            var real = await app.SyncAsync("force");
            realWall.Add(real.WallMs);
            await CheckForceAsync(set, database, real, expected, on: true);

            await database.SettleAsync("customers", "customer_changes");
            var runId = await RunIdAsync(database, real.JobId);
            var revert = await app.RunJobAsync($"/api/sync/runs/{runId}/revert");
            revertWall.Add(revert.WallMs);
            set.Facts["revertedCount"] = revert.Int("revertedCount");
            Check(set, "revertedCount", revert.Int("revertedCount"), expected.Fields);
            Check(set, "revertSkippedCount", revert.Int("skippedCount"), 0);
            Check(set, "revertCustomersBack", await database.ScalarAsync<long>("""
                SELECT count(*) FROM customers c JOIN bench_before b ON b.id = c.id WHERE c.email = b.email AND c.city = b.city
                """), await database.ScalarAsync<long>("SELECT count(*) FROM bench_before"));
            Check(set, "revertLedgerRows", await database.ScalarAsync<long>(
                $"SELECT count(*) FROM customer_changes WHERE run_id = {runId} AND source = 'revert'"), expected.Fields);

            if (run % 2 == 0)
                dry = await DryRunAsync(set, database, app, expected);
            dryWall.Add(dry!.WallMs);
            dryEngine.Add(dry.DurationMs);
            dryRatio.Add(dry.WallMs / real.WallMs);
            Benchmark.Log($"dry run {dry.WallMs:F0} ms (engine {dry.DurationMs:F0}), real {real.WallMs:F0} ms, " +
                $"revert {revert.WallMs:F0} ms ({revert.Int("revertedCount")} fields put back) (load {Report.LoadAverage()})");
        }
        await database.ExecuteAsync("DROP TABLE bench_before");
    }

    // (d) What an operator reads: the category what-if over every customer (one statement,
    // ≤ 1 s at 200 000 customers), and one customer's timeline and explained category (flat
    // as the tables grow). Checked: the preview's proposed counts add up to every customer.
    private async Task MeasureReadsAsync(FigureSet set, BenchDatabase database, AppUnderTest app)
    {
        await WaitQuietAsync(set);
        await database.SettleAsync("customers", "customer_changes");
        var preview = set.Get("preview.wall", "POST /api/categories/preview (every customer)", "ms",
            set.Phones <= 200_000 ? Target.AtMost(1000, "ms") : null);
        var timeline = set.Get("timeline.wall", "GET /api/customers/{id}/timeline, one customer", "ms");
        var customer = set.Get("customer.wall", "GET /api/customers/{id} with categoryReason", "ms");
        var customers = await database.ScalarAsync<long>("SELECT count(*) FROM customers");
        for (var i = 0; i < 11; i++)
        {
            var (body, ms) = await app.SendAsync(HttpMethod.Post, "/api/categories/preview",
                new { vipMinOrders = 5 + i % 3, inactiveAfterDays = 90 }, System.Net.HttpStatusCode.OK);
            var proposed = body["proposed"]!.AsObject().Sum(c => c.Value!.GetValue<long>());
            Check(set, "previewCoversEveryCustomer", proposed, customers);
            if (i > 0)
                preview.Add(ms);
        }
        var random = new Random(13);
        var maxId = await database.ScalarAsync<long>("SELECT max(id) FROM customers");
        for (var i = 0; i < 101; i++)
        {
            var id = await database.ScalarAsync<long>($"SELECT id FROM customers WHERE id >= {random.NextInt64(1, maxId + 1)} ORDER BY id LIMIT 1");
            var (page, timelineMs) = await app.SendAsync(HttpMethod.Get, $"/api/customers/{id}/timeline?pageSize=50", null, System.Net.HttpStatusCode.OK);
            var (one, customerMs) = await app.SendAsync(HttpMethod.Get, $"/api/customers/{id}", null, System.Net.HttpStatusCode.OK);
            Check(set, "timelineHasItems", page["items"]!.AsArray().Count > 0, true);
            Check(set, "customerHasReason", one["categoryReason"]?["rule"] is not null, true);
            if (i == 0)
                continue;
            timeline.Add(timelineMs);
            customer.Add(customerMs);
        }
        Benchmark.Log($"preview {preview.Median:F0} ms over {customers:N0} customers, timeline {timeline.Median:F1} ms, " +
            $"customer {customer.Median:F1} ms (load {Report.LoadAverage()})");
    }

    private static async Task<JobOutcome> DryRunAsync(FigureSet set, BenchDatabase database, AppUnderTest app, Expected expected)
    {
        await database.SettleAsync("orders", "customers", "customer_changes");
        var ledgerBefore = await database.ScalarAsync<long>("SELECT count(*) FROM customer_changes");
        var dry = await app.RunJobAsync("/api/sync", new { mode = "force", dryRun = true });
        // What it would change, as the run row records it; and nothing changed.
        var changes = JsonNode.Parse(await database.ScalarAsync<string>(
            $"SELECT coalesce(changes::text, '{{}}') FROM sync_runs WHERE job_id = '{dry.JobId}' AND dry_run"))!.AsObject();
        Check(set, "dryRunUpdated", dry.Int("updatedCount"), expected.Customers);
        Check(set, "dryRunEmailChanges", changes["email"]?.GetValue<int>() ?? 0, expected.Emails);
        Check(set, "dryRunCityChanges", changes["city"]?.GetValue<int>() ?? 0, expected.Cities);
        Check(set, "dryRunOtherChanges", changes.Where(c => c.Key is not ("email" or "city")).Sum(c => c.Value!.GetValue<int>()), 0);
        Check(set, "dryRunLedgerRowsLeft", await database.ScalarAsync<long>("SELECT count(*) FROM customer_changes"), ledgerBefore);
        Check(set, "dryRunCustomersLeftAsTheyWere", await database.ScalarAsync<long>("""
            SELECT count(*) FROM customers c JOIN bench_before b ON b.id = c.id WHERE c.email = b.email AND c.city = b.city
            """), await database.ScalarAsync<long>("SELECT count(*) FROM bench_before"));
        return dry;
    }

    // After a real force sync: the changed customers hold their latest order's email and city,
    // the job counted them, and the ledger holds one row per changed field (none when off).
    private static async Task CheckForceAsync(FigureSet set, BenchDatabase database, JobOutcome job, Expected expected, bool on)
    {
        Check(set, "forceUpdated", job.Int("updatedCount"), expected.Customers);
        Check(set, "forceCustomersExact", await database.ScalarAsync<long>("""
            SELECT count(*) FROM bench_changed b JOIN orders o ON o.id = b.order_id JOIN customers c ON c.phone = b.phone
            WHERE c.email = o.customer_email AND c.city = o.delivery_city
            """), await database.ScalarAsync<long>("SELECT count(*) FROM bench_changed"));
        var runId = await RunIdAsync(database, job.JobId);
        var rows = await database.ScalarAsync<string>($"""
            SELECT concat_ws(' ', count(*) FILTER (WHERE field = 'email'), count(*) FILTER (WHERE field = 'city'),
                             count(*) FILTER (WHERE field NOT IN ('email', 'city')))
            FROM customer_changes WHERE run_id = {runId}
            """);
        Check(set, "forceLedgerRows", rows, on ? $"{expected.Emails} {expected.Cities} 0" : "0 0 0");
    }

    // The changes a force sync will find: customers, and their changed emails and cities.
    private sealed record Expected(long Customers, long Emails, long Cities)
    {
        public long Fields => Emails + Cities;
    }

    // A tenth of the customers (a repeatable pick) with the id of their latest order, as the
    // sync picks it (newest created_at, then highest id).
    private static async Task<long> PickChangedAsync(BenchDatabase database)
    {
        await database.ExecuteAsync("""
            DROP TABLE IF EXISTS bench_changed;
            CREATE TABLE bench_changed AS
            SELECT DISTINCT ON (o.normalized_phone) o.normalized_phone AS phone, o.id AS order_id
            FROM orders o
            WHERE o.normalized_phone IN (SELECT phone FROM customers ORDER BY md5(phone) LIMIT (SELECT count(*) / 10 FROM customers))
            ORDER BY o.normalized_phone, o.created_at DESC, o.id DESC;
            """);
        return await database.ScalarAsync<long>("SELECT count(*) FROM bench_changed");
    }

    // Gives the picked customers' latest orders an email and a city of this round's own.
    private static async Task<Expected> ChangeLatestOrdersAsync(BenchDatabase database, int round)
    {
        await database.ExecuteAsync($"""
            UPDATE orders o
            SET customer_email = 'ledger{round}.' || substr(b.phone, 3) || '@example.ru', delivery_city = 'Город {round}'
            FROM bench_changed b WHERE o.id = b.order_id
            """);
        await using var command = database.DataSource.CreateCommand("""
            SELECT count(*) FILTER (WHERE c.email <> o.customer_email OR c.city <> o.delivery_city),
                   count(*) FILTER (WHERE c.email <> o.customer_email),
                   count(*) FILTER (WHERE c.city <> o.delivery_city)
            FROM bench_changed b JOIN orders o ON o.id = b.order_id JOIN customers c ON c.phone = b.phone
            """);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new Expected(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    // The baseline: the ledger's three triggers disabled (what the app ran before the ledger).
    private static async Task SetLedgerAsync(BenchDatabase database, bool on)
    {
        var verb = on ? "ENABLE" : "DISABLE";
        await database.ExecuteAsync(
            $"ALTER TABLE customers {verb} TRIGGER customers_ledger_insert, {verb} TRIGGER customers_ledger_update, {verb} TRIGGER customers_ledger_delete");
        var enabled = await database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND tgname LIKE 'customers_ledger_%' AND tgenabled = 'O'");
        if (enabled != (on ? 3 : 0))
            throw new InvalidOperationException($"{enabled} of the ledger's 3 triggers are enabled, expected {(on ? 3 : 0)}");
    }

    // Empty customers and ledger (and orders too if asked): the next sync is a first sync.
    private static Task ResetAsync(BenchDatabase database, bool orders) => database.ExecuteAsync(
        $"TRUNCATE {(orders ? "orders, " : "")}customers, customer_phones, customer_notes, customer_changes, sync_runs, sync_errors, customer_sync_requests RESTART IDENTITY");

    private static Task<long> RunIdAsync(BenchDatabase database, string jobId) =>
        database.ScalarAsync<long>($"SELECT id FROM sync_runs WHERE job_id = '{jobId}' ORDER BY id DESC LIMIT 1");

    // The machine is shared with test runs (2 cores): before each pair, wait (polling every
    // 15 s, at most --max-wait seconds in all) until no test run of this project is going.
    private async Task WaitQuietAsync(FigureSet set)
    {
        while (_waitedSeconds < options.MaxWaitSeconds && TestRunGoing() is { } test)
        {
            if (_waitedSeconds % 60 == 0)
                Benchmark.Log($"a test run is going ({test}); waiting (load {Report.LoadAverage()})");
            await Task.Delay(TimeSpan.FromSeconds(15));
            _waitedSeconds += 15;
        }
        set.Facts["waitedForTestRunsSeconds"] = _waitedSeconds;
    }

    private int _waitedSeconds;

    // A test run's processes: ./test.sh (it builds first), dotnet test, the test host, its servers.
    private static readonly string[] TestRunMarks = ["test.sh", "dotnet test", "Crm.Tests", "crm-test."];

    internal static string? TestRunGoing()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (TestRunMarks.Any(mark => cmdline.Contains(mark, StringComparison.Ordinal)))
                    return cmdline.Length > 80 ? cmdline[..80] : cmdline;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
        return null;
    }

    // Pairs alternate which of on and off runs first; the last pair ends with on.
    private IEnumerable<bool> PairOrder(int pair) => (options.Runs - pair) % 2 == 0 ? [false, true] : [true, false];

    // A failed check is a WARNING in the log and stays in the facts (as in the main bench).
    private static void Check<T>(FigureSet set, string name, T actual, T expected)
    {
        if (EqualityComparer<T>.Default.Equals(actual, expected))
        {
            set.Facts.TryAdd(name, "exact");
            return;
        }
        set.Facts[name] = $"WRONG: {actual}, expected {expected}";
        Benchmark.Log($"WARNING: {name}: {actual}, expected {expected}");
    }

    // --breakdown: where the ledger's time goes, by SQL on the loaded database (no app, no job
    // polling: steadier than the syncs on a shared machine). Rotated, --runs times, each
    // statement committed, the ledger's variants:
    //   off      the triggers disabled;
    //   capture  the triggers on, the function replaced by one that only returns (PostgreSQL
    //            still builds the transition tables: their cost alone);
    //   pkOnly   the ledger as migrated, customer_changes reduced to its primary key;
    //   noJson   the ledger as migrated, with NULL for the jsonb it builds (not its semantics:
    //            the cost of building the jsonb);
    //   lazyJson a candidate with the same rows and values: jsonb built for changed fields only;
    //   on       the ledger as migrated.
    // Two statements shaped like the syncs' writes: every customer inserted in one statement
    // into an empty customers table with its deferred indexes dropped (the first sync's
    // INSERT), and the email and city of the 10% changed customers updated in one statement
    // (the force sync's UPDATEs, in one). Then the run's read-back of its changes per field.
    // The migrated function and indexes are put back and checked.
    private async Task BreakdownAsync(FigureSet set, BenchDatabase database, OrderGenerator data)
    {
        await WaitQuietAsync(set);
        var function = await database.ScalarAsync<string>("SELECT pg_get_functiondef('crm_record_customer_changes'::regproc)");
        const string IndexesSql = """
            SELECT coalesce(string_agg(pg_get_indexdef(indexrelid), '; ' ORDER BY indexrelid::regclass::text), '') FROM pg_index
            WHERE indrelid = '{0}'::regclass AND NOT indisprimary AND NOT indisunique
            """;
        var ledgerIndexes = await database.ScalarAsync<string>(string.Format(IndexesSql, "customer_changes"));
        var customerIndexes = await database.ScalarAsync<string>(string.Format(IndexesSql, "customers"));
        var columns = await database.ScalarAsync<string>("""
            SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = 'customers' AND is_generated = 'NEVER' AND is_identity = 'NO'
            """);
        // Every jsonb the function builds, NULL instead (rows and fields unchanged).
        var noJson = System.Text.RegularExpressions.Regex.Replace(function, @"\b(jsonb_build_object|to_jsonb)\([^()]*\)", "NULL::jsonb");
        // A candidate, same rows and values: the UPDATE branch builds a field's jsonb only when
        // the field changed (CASE), instead of for all eight fields of every updated row.
        const string StatisticsChanged = "(o.total_orders, o.total_spent, o.average_order, o.last_order_date) IS DISTINCT FROM (n.total_orders, n.total_spent, n.average_order, n.last_order_date)";
        var lazyJson = System.Text.RegularExpressions.Regex.Replace(function,
            @"\('(\w+)', o\.(\w+) IS DISTINCT FROM n\.\2, to_jsonb\(o\.\2\), to_jsonb\(n\.\2\)",
            "('$1', o.$2 IS DISTINCT FROM n.$2, CASE WHEN o.$2 IS DISTINCT FROM n.$2 THEN to_jsonb(o.$2) END, CASE WHEN o.$2 IS DISTINCT FROM n.$2 THEN to_jsonb(n.$2) END");
        lazyJson = lazyJson.Replace("jsonb_build_object('rule'", "CASE WHEN o.category IS DISTINCT FROM n.category THEN jsonb_build_object('rule'")
            .Replace("'thresholds', thresholds)", "'thresholds', thresholds) END");
        lazyJson = System.Text.RegularExpressions.Regex.Replace(lazyJson,
            @"jsonb_build_object\('totalOrders', (o|n)\.total_orders([^()]*)\)",
            $"CASE WHEN {StatisticsChanged} THEN jsonb_build_object('totalOrders', $1.total_orders$2) END");
        const string CaptureOnly = """
            CREATE OR REPLACE FUNCTION crm_record_customer_changes() RETURNS trigger LANGUAGE plpgsql AS $fn$
            BEGIN RETURN NULL; END $fn$
            """;
        var dropLedgerIndexes = "DROP INDEX " + string.Join(", ", await IndexNamesAsync(database, "customer_changes"));
        (string Key, string Name, bool On, string? Before, string? After)[] variants =
        [
            ("off", "ledger off", false, null, null),
            ("capture", "transition tables only", true, CaptureOnly, function),
            ("pkOnly", "ledger, customer_changes with its primary key only", true, dropLedgerIndexes, ledgerIndexes),
            ("noJson", "ledger without building its jsonb", true, noJson, function),
            ("lazyJson", "ledger building only the changed fields' jsonb (candidate)", true, lazyJson, function),
            ("on", "ledger as migrated", true, null, null),
        ];

        await database.ExecuteAsync("""
            DROP TABLE IF EXISTS bench_customers_source;
            CREATE TABLE bench_customers_source AS SELECT * FROM customers;
            """);
        await PickChangedAsync(database);
        var customers = await database.ScalarAsync<long>("SELECT count(*) FROM bench_customers_source");
        var changed = await database.ScalarAsync<long>("SELECT count(*) FROM bench_changed");
        var dropCustomerIndexes = "DROP INDEX " + string.Join(", ", await IndexNamesAsync(database, "customers"));
        var round = 0;
        try
        {
            for (var run = 1; run <= options.Runs; run++)
            {
                await WaitQuietAsync(set);
                foreach (var variant in variants.Skip((run - 1) % variants.Length).Concat(variants.Take((run - 1) % variants.Length)))
                {
                    await SetLedgerAsync(database, variant.On);
                    if (variant.Before is not null)
                        await database.ExecuteAsync(variant.Before);
                    try
                    {
                        // The first sync's INSERT: empty tables, the deferred indexes dropped (as the engine does).
                        await database.ExecuteAsync("TRUNCATE customers, customer_phones, customer_notes, customer_changes");
                        await database.ExecuteAsync(dropCustomerIndexes);
                        await database.SettleAsync();
                        var insert = await database.TimeAsync($"""
                            BEGIN;
                            SELECT set_config('crm.change_source', 'sync:default', true), set_config('crm.run_id', '999999', true);
                            INSERT INTO customers ({columns}) SELECT {columns} FROM bench_customers_source ORDER BY phone;
                            COMMIT;
                            """);
                        set.Get($"breakdown.insert.{variant.Key}", $"breakdown: INSERT of every customer, {variant.Name}", "ms").Add(insert);
                        Check(set, "breakdownInsertLedgerRows", await database.ScalarAsync<long>("SELECT count(*) FROM customer_changes"),
                            variant.Key is "off" or "capture" ? 0 : customers);
                        await database.ExecuteAsync(customerIndexes);

                        // The force sync's UPDATEs, in one: new email and city for the changed tenth.
                        round++;
                        await database.SettleAsync("customers", "customer_changes");
                        var update = await database.TimeAsync($"""
                            BEGIN;
                            SELECT set_config('crm.change_source', 'sync:force', true), set_config('crm.run_id', '999998', true);
                            UPDATE customers c SET email = 'breakdown{round}.' || substr(b.phone, 3) || '@example.ru',
                                                   city = 'Город {round}', updated_at = now()
                            FROM bench_changed b WHERE c.phone = b.phone;
                            COMMIT;
                            """);
                        set.Get($"breakdown.update.{variant.Key}", $"breakdown: UPDATE of 10% of customers' email and city, {variant.Name}", "ms").Add(update);
                        Check(set, "breakdownUpdateLedgerRows", await database.ScalarAsync<long>("SELECT count(*) FROM customer_changes WHERE run_id = 999998"),
                            variant.Key is "off" or "capture" ? 0 : 2 * changed);
                        Benchmark.Log($"breakdown {variant.Key}: INSERT {insert:F0} ms, UPDATE {update:F0} ms (load {Report.LoadAverage()})");
                    }
                    finally
                    {
                        if (variant.After is not null)
                            await database.ExecuteAsync(variant.After);
                    }
                }
            }
        }
        finally
        {
            await database.ExecuteAsync(function);
            await SetLedgerAsync(database, true);
        }
        Check(set, "breakdownFunctionRestored",
            await database.ScalarAsync<string>("SELECT pg_get_functiondef('crm_record_customer_changes'::regproc)"), function);
        Check(set, "breakdownLedgerIndexesRestored", await database.ScalarAsync<string>(string.Format(IndexesSql, "customer_changes")), ledgerIndexes);
        Check(set, "breakdownCustomerIndexesRestored", await database.ScalarAsync<string>(string.Format(IndexesSql, "customers")), customerIndexes);
        foreach (var kind in new[] { "insert", "update" })
        {
            var off = set.Find($"breakdown.{kind}.off")!.Median;
            foreach (var variant in variants.Skip(1))
                set.Get($"breakdown.{kind}.{variant.Key}.extra", $"breakdown: {kind}, {variant.Name}: minus off (medians)", "ms", derived: true)
                    .Add(set.Find($"breakdown.{kind}.{variant.Key}")!.Median - off);
        }

        // The engine reads the run's changes per field back at the end of a run.
        var count = set.Get("breakdown.count", "breakdown: the run's changes per field read back, after the INSERT (as the engine does)", "ms");
        for (var run = 1; run <= options.Runs; run++)
            count.Add(await database.TimeAsync("SELECT field, count(*)::int FROM customer_changes WHERE run_id = 999999 GROUP BY field ORDER BY field"));
        await database.ExecuteAsync("DROP TABLE bench_customers_source");
    }

    private static async Task<List<string>> IndexNamesAsync(BenchDatabase database, string table)
    {
        var names = new List<string>();
        await using var command = database.DataSource.CreateCommand($"""
            SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = '{table}'::regclass AND NOT indisprimary AND NOT indisunique
            """);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            names.Add(reader.GetString(0));
        return names;
    }

    // One customer's statistics job on the loaded table with the ledger on, under auto_explain
    // (every statement, nested ones too: the trigger's INSERT): the plans of the statements
    // that touch customers or customer_changes, from PostgreSQL's log (--server-log).
    private async Task ExplainStatisticsJobAsync(FigureSet set, BenchDatabase database)
    {
        if (options.ServerLog is not { } serverLog || !File.Exists(serverLog))
        {
            Benchmark.Log("--explain: PostgreSQL's log file is unknown (--server-log): skipped");
            return;
        }
        await database.LogPlansAsync(minDurationMs: 0);
        var start = new FileInfo(serverLog).Length;
        try
        {
            await SetLedgerAsync(database, true);
            await using var app = await AppUnderTest.StartAsync(options.AppDll, database.ConnectionString, AppLog($"app-ledger-explain-{set.Orders}"));
            var customer = (await database.SampleCustomersAsync(1, 7))[0];
            await database.InsertCompletedOrderAsync(customer, 1234.50m);
            var job = await app.RunJobAsync($"/api/customers/{customer.Id}/update-stats");
            var runId = await RunIdAsync(database, job.JobId);
            set.Facts["explainRunLedgerRows"] = await database.ScalarAsync<string>(
                $"SELECT string_agg(field, ', ' ORDER BY field) FROM customer_changes WHERE run_id = {runId}");
        }
        finally
        {
            await database.ExecuteAsync($"ALTER DATABASE {database.Name} RESET ALL");
        }
        var plans = PlanEntries(serverLog, start, "customer_changes", "UPDATE customers");
        Explanations.Add(($"One customer's statistics job with the ledger on, N={set.Orders:N0}: plans of the statements on customers and customer_changes", plans));
        set.Facts["statisticsJobPlans"] = plans;
    }

    // The auto_explain entries after offset whose text mentions any of the words.
    internal static string PlanEntries(string serverLog, long offset, params string[] words) =>
        string.Concat(PlanEntryList(serverLog, offset, words).Select(body => Environment.NewLine + body));

    // The same, one string per entry, in the log's order.
    internal static List<string> PlanEntryList(string serverLog, long offset, params string[] words)
    {
        using var stream = new FileStream(serverLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        var entries = new List<string>();
        var entry = new System.Text.StringBuilder();
        void Flush()
        {
            var body = entry.ToString();
            if (body.Length > 0 && words.Any(w => body.Contains(w, StringComparison.Ordinal)))
                entries.Add(body);
            entry.Clear();
        }
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains("LOG:  duration:", StringComparison.Ordinal))
            {
                Flush();
                entry.AppendLine(line);
            }
            else if (entry.Length > 0 && line.Length > 0 && char.IsWhiteSpace(line[0]))
            {
                entry.AppendLine(line);
            }
            else
            {
                Flush();
            }
        }
        Flush();
        return entries;
    }

    private static IEnumerable<GeneratedOrder> Range(OrderGenerator data, int from, int count)
    {
        for (var i = from; i < from + count; i++)
            yield return data[i];
    }

    private string AppLog(string name) => Path.Combine(options.WorkDir, $"{name}.log");
}
