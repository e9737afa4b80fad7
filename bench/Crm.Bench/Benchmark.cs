// Over 400 lines: the full-sync benchmark's phases, run in this order at every size, read as one script.
using System.Diagnostics;

namespace Crm.Bench;

// The measurements, phase by phase. Every timed step starts from a settled database (see
// BenchDatabase.SettleAsync) and is repeated --runs times; the median is the figure.
public sealed partial class Benchmark(BenchOptions options, DateTime now)
{
    private const int OneMillion = 1_000_000;
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    public List<FigureSet> Sets { get; } = [];

    // --explain: titled texts (plans, a breakdown) printed after the tables.
    public List<(string Title, string Text)> Explanations { get; } = [];

    public static void Log(string message) =>
        Console.WriteLine($"[{(int)Clock.Elapsed.TotalMinutes:00}:{Clock.Elapsed.Seconds:00}] {message}");

    public async Task RunAsync()
    {
        OrderGenerator? last = null;
        BenchDatabase? lastDatabase = null;
        foreach (var orders in options.Sizes)
        {
            last = new OrderGenerator(orders, options.PhonesFor(orders), now);
            if (lastDatabase is not null)
                await lastDatabase.DisposeAsync();
            lastDatabase = await BenchDatabase.CreateAsync(options.Postgres, "crm_bench");
            Sets.Add(await MeasureDataSetAsync(last, lastDatabase));
        }

        var largest = Sets[^1];
        // Once, not per size: its per-customer work does not depend on N (see bench/README.md).
        if (options.RunsSeedSlice)
        {
            var slice = await MeasureSeedSliceAsync(last!);
            foreach (var set in Sets)
                AddSeedComparison(set, slice);
            Sets.Add(slice);
        }

        if (options.SeedFull)
            await MeasureSeedFullAsync(largest, lastDatabase!);
        await lastDatabase!.ExecuteAsync("DROP TABLE IF EXISTS bench_ours");
        await lastDatabase.DisposeAsync();
    }

    // Everything that depends on N: imports, the syncs, the recalculation, the per-customer
    // figures, the reference statement, RSS.
    private async Task<FigureSet> MeasureDataSetAsync(OrderGenerator data, BenchDatabase database)
    {
        var set = new FigureSet($"{data.Orders:N0} orders", data.Orders, data.Phones);
        var atOneMillion = data.Orders == OneMillion;
        Log($"data set: {data.Orders:N0} orders over {data.Phones:N0} phones");
        var skipped = options.Skipped(data.Orders);
        if (skipped.Count > 0)
        {
            set.Facts["skippedPhases"] = string.Join(", ", skipped);
            Log($"skipped at this size: {string.Join(", ", skipped)}");
        }

        // What the client's own work costs (it shares the 2 cores with the app and PostgreSQL).
        if (options.Measures("generate", data.Orders))
        {
            foreach (var format in new[] { ImportBodyFormat.Ndjson, ImportBodyFormat.Csv })
            {
                var generation = Stopwatch.StartNew();
                await OrdersContent.Create(format, Range(data, 0, data.Orders)).WriteAsync(Stream.Null, CancellationToken.None);
                var name = format == ImportBodyFormat.Csv ? "CSV" : "NDJSON";
                set.Get($"client.generate{(format == ImportBodyFormat.Csv ? ".csv" : "")}", $"client: generate the {name} (not app time)", "ms")
                    .Add(generation.Elapsed.TotalMilliseconds);
            }
        }

        await using (var app = await AppUnderTest.StartAsync(options.AppDll, database.ConnectionString, AppLog("app")))
        {
            set.Facts["appIdleRssMb"] = Math.Round(app.RssMb(), 1);
            await database.DisableAutovacuumAsync();
            await WarmUpAsync(data, database, app);
            await MeasureImportAsync(set, data, database, app);
            await database.SettleAsync("orders");
            await DescribeDataAsync(set, database);
            CheckImportCreatedEveryCustomer(set);
            await MeasureSyncsAsync(set, database, app, atOneMillion);
            await MeasurePerCustomerAsync(set, data, database, app);
        }
        if (options.Measures("write-window", data.Orders))
            await MeasureWriteWindowAsync(set, database);
        await MeasureReferenceAsync(set, database);
        if (options.Explain)
            await ExplainAsync(set, database);

        var ours = set.Find("sync.first.engine")!.Median;
        var oursWall = set.Find("sync.first.wall")!.Median;
        var reference = set.Find("reference")!.Median;
        set.Get("ratio.reference", "first full sync / reference statement (engine time)", "×", Target.AtMost(1.25, "×"), derived: true)
            .Add(ours / reference);
        set.Get("ratio.reference.wall", "first full sync / reference statement (wall time)", "×", derived: true)
            .Add(oursWall / reference);

        // Issue 10: the import and its sync against what PostgreSQL itself needs for the same
        // result, measured in the same run: the bench's binary COPY of the same rows plus the
        // hand-written reference statement into the same empty customers table.
        var floorMs = set.Find("import.copyFloor.ms")!.Median;
        set.Get("ratio.import.floor", "import (one request) + its sync / (COPY floor + reference statement)", "×",
                Target.AtMost(1.25, "×"), derived: true)
            .Add(set.Find("import.single.total")!.Median / (floorMs + reference));
        var floorRate = set.Find("import.copyFloor")!.Median;
        set.Get("ratio.import.rate", "import rate (one request, NDJSON) / COPY floor rate", "×", Target.AtLeast(0.9, "×"), derived: true)
            .Add(set.Find("import.single.rate")!.Median / floorRate);
        if (set.Find("import.csv.rate") is { } csv)
            set.Get("ratio.import.csv", "import rate (one request, CSV) / COPY floor rate", "×", Target.AtLeast(0.9, "×"), derived: true)
                .Add(csv.Median / floorRate);
        return set;
    }

    // Untimed: a small import, its sync, a full sync and a recalculation, so that the figures
    // are the steady state of a running service, not the JIT and connection set-up of a fresh process.
    private static async Task WarmUpAsync(OrderGenerator data, BenchDatabase database, AppUnderTest app)
    {
        foreach (var format in new[] { ImportBodyFormat.Csv, ImportBodyFormat.Ndjson })
        {
            await database.ResetAllAsync();
            var import = await app.ImportAsync(Range(data, 0, Math.Min(data.Orders, 20_000)), format);
            await app.WaitJobAsync(import.JobId!);
        }
        await app.SyncAsync("default");
        await app.RunJobAsync("/api/categories/recalculate");
        await database.ResetAllAsync();
    }

    // Per run, each from empty tables and a settled database: the COPY floor; the CSV import
    // in one request and its sync; the NDJSON import in one request and its sync (issue 10:
    // import + sync against COPY + reference); then, unless skipped, the NDJSON import in
    // --chunk requests, each request's sync awaited before the next. The last load stays for
    // the phases that follow.
    private async Task MeasureImportAsync(FigureSet set, OrderGenerator data, BenchDatabase database, AppUnderTest app)
    {
        var floor = set.Get("import.copyFloor", "import floor: binary COPY of the same orders from the client", "orders/s");
        var floorMs = set.Get("import.copyFloor.ms", "import floor: binary COPY of the same orders, time", "ms");
        var singleRate = set.Get("import.single.rate", "import, one request of all orders (NDJSON): orders/s", "orders/s",
            Target.AtLeast(200_000, "orders/s"));
        var singleSync = set.Get("import.single.sync", "import (one request): its pending-sync job, wall", "ms");
        var singleSyncEngine = set.Get("import.single.sync.engine", "import (one request): its pending-sync job, engine time", "ms");
        var singleTotal = set.Get("import.single.total", "import (one request) + its sync: POST → job Succeeded", "ms");
        var singleRss = set.Get("import.single.rss", "app peak RSS during the one-request import and its sync", "MB", Target.AtMost(300, "MB"));
        var measureCsv = options.Measures("csv-import", data.Orders);
        var csvRate = measureCsv ? set.Get("import.csv.rate", "import, one request of all orders (CSV): orders/s", "orders/s") : null;
        var csvSync = measureCsv ? set.Get("import.csv.sync", "import (one CSV request): its pending-sync job, wall", "ms") : null;

        var phase = Stopwatch.StartNew();
        for (var run = 1; run <= options.Runs; run++)
        {
            // Time box: another run only if it would still end within the budget.
            if (run > 1 && phase.Elapsed.TotalSeconds / (run - 1) * run > options.ImportBudgetSeconds)
            {
                Log($"import: {run - 1} run(s) only: another would exceed --import-budget {options.ImportBudgetSeconds} s");
                break;
            }
            set.Facts["importRuns"] = run;

            // The floor right before the imports, so that all see the same load on a shared machine.
            await database.ResetAllAsync();
            await database.SettleAsync();
            var copyMs = await database.CopyOrdersAsync(Range(data, 0, data.Orders), now);
            floor.Add(data.Orders / (copyMs / 1000));
            floorMs.Add(copyMs);
            var fingerprint = run == 1 ? await database.OrdersFingerprintAsync() : null;
            Log($"import run {run}: COPY floor {data.Orders / (copyMs / 1000):N0} orders/s ({copyMs / 1000:F1} s)");

            if (csvRate is not null)
            {
                var (import, job, _) = await ImportOnceAsync(ImportBodyFormat.Csv, data, database, app);
                csvRate.Add(data.Orders / (import.RequestMs / 1000));
                csvSync!.Add(job.WallMs);
                set.Facts["importCsvBytes"] = import.Bytes;
                if (fingerprint is not null)
                    set.Facts["csvOrdersSameAsCopy"] = await SameOrdersAsync(database, fingerprint, "the CSV import");
                Log($"import run {run}: CSV, one request: {data.Orders / (import.RequestMs / 1000):N0} orders/s " +
                    $"({import.RequestMs / 1000:F1} s, {import.Bytes / 1048576.0:F0} MiB), its sync {job.WallMs / 1000:F1} s");
            }

            {
                var (import, job, totalMs) = await ImportOnceAsync(ImportBodyFormat.Ndjson, data, database, app);
                singleRate.Add(data.Orders / (import.RequestMs / 1000));
                singleSync.Add(job.WallMs);
                singleSyncEngine.Add(job.DurationMs);
                singleTotal.Add(totalMs);
                singleRss.Add(app.PeakRssMb());
                set.Facts["importBytes"] = import.Bytes;
                set.Facts["importSingleCreated"] = job.Int("createdCount");
                if (fingerprint is not null)
                {
                    set.Facts["ndjsonOrdersSameAsCopy"] = await SameOrdersAsync(database, fingerprint, "the NDJSON import");
                    // Compared with the first full sync's customers later (MeasureSyncsAsync).
                    await database.SnapshotCustomersAsync("bench_import");
                }
                Log($"import run {run}: NDJSON, one request: {data.Orders / (import.RequestMs / 1000):N0} orders/s " +
                    $"({import.RequestMs / 1000:F1} s, {import.Bytes / 1048576.0:F0} MiB), its sync {job.WallMs / 1000:F1} s " +
                    $"(engine {job.DurationMs / 1000:F1} s), total {totalMs / 1000:F1} s, peak RSS {app.PeakRssMb():F0} MB");
            }

            if (options.Measures("stats-job", data.Orders))
                await MeasureStatisticsJobAfterImportAsync(set, database, app);

            if (options.Measures("chunked-import", data.Orders))
                await ImportInChunksAsync(set, data, database, app, run);
        }
    }

    // One import request of every order into empty tables, then its pending-sync job.
    private static async Task<(ImportOutcome Import, JobOutcome Job, double TotalMs)> ImportOnceAsync(
        ImportBodyFormat format, OrderGenerator data, BenchDatabase database, AppUnderTest app)
    {
        await database.ResetAllAsync();
        await database.SettleAsync();
        app.ResetPeakRss();
        var total = Stopwatch.StartNew();
        var import = await app.ImportAsync(Range(data, 0, data.Orders), format);
        if (import.Imported != data.Orders || import.Rejected != 0)
            throw new InvalidOperationException($"{format} import of {data.Orders} orders: {import.Imported} imported, {import.Rejected} rejected");
        var job = await app.WaitJobAsync(import.JobId!);
        return (import, job, total.Elapsed.TotalMilliseconds);
    }

    private static async Task<bool> SameOrdersAsync(BenchDatabase database, string expected, string what)
    {
        var actual = await database.OrdersFingerprintAsync();
        if (actual == expected)
            return true;
        Log($"WARNING: {what} stored other orders than the COPY floor: [{actual}] vs [{expected}]");
        return false;
    }

    private static void CheckImportCreatedEveryCustomer(FigureSet set)
    {
        var phones = (long)set.Facts["distinctPhones"];
        if (set.Facts.GetValueOrDefault("importSingleCreated") is int created && created != phones)
            Log($"WARNING: the one-request import's sync created {created} customers, expected {phones}");
    }

    private async Task ImportInChunksAsync(FigureSet set, OrderGenerator data, BenchDatabase database, AppUnderTest app, int run)
    {
        var total = set.Get("import.rate", $"import in requests of ≤ {options.Chunk:N0}: orders/s over all requests", "orders/s",
            Target.AtLeast(200_000, "orders/s"));
        var perRequest = set.Get("import.request", $"import in requests of ≤ {options.Chunk:N0}: orders/s per request", "orders/s");
        var pending = set.Get("import.pendingSync", "import in requests: each request's pending-sync job (wall)", "ms");
        var endToEnd = set.Get("import.endToEnd", "import in requests + their pending syncs, end to end", "orders/s");
        var rss = set.Get("import.rss", "app peak RSS during the import in requests", "MB", Target.AtMost(300, "MB"));

        await database.ResetAllAsync();
        await database.SettleAsync();
        app.ResetPeakRss();
        double requestMs = 0;
        long bytes = 0;
        var wall = Stopwatch.StartNew();
        // Each request's pending-sync job is awaited before the next request, so the request
        // times are the import alone and the job times the sync alone (2 cores: no overlap).
        for (var from = 0; from < data.Orders; from += options.Chunk)
        {
            var count = Math.Min(options.Chunk, data.Orders - from);
            var import = await app.ImportAsync(Range(data, from, count));
            if (import.Imported != count || import.Rejected != 0)
                throw new InvalidOperationException($"import of {count} orders: {import.Imported} imported, {import.Rejected} rejected");
            requestMs += import.RequestMs;
            bytes += import.Bytes;
            perRequest.Add(count / (import.RequestMs / 1000));
            var job = await app.WaitJobAsync(import.JobId!);
            pending.Add(job.WallMs);
        }
        wall.Stop();
        total.Add(data.Orders / (requestMs / 1000));
        endToEnd.Add(data.Orders / wall.Elapsed.TotalSeconds);
        rss.Add(app.PeakRssMb());
        Log($"import run {run}: in requests of {options.Chunk:N0}: {data.Orders / (requestMs / 1000):N0} orders/s " +
            $"({requestMs / 1000:F1} s of requests, {wall.Elapsed.TotalSeconds:F1} s with the pending syncs), peak RSS {app.PeakRssMb():F0} MB");
    }

    private static async Task DescribeDataAsync(FigureSet set, BenchDatabase database)
    {
        set.Facts["distinctPhones"] = await database.ScalarAsync<long>("SELECT count(DISTINCT normalized_phone) FROM orders");
        set.Facts["ordersWithoutUsablePhone"] = await database.ScalarAsync<long>("SELECT count(*) FROM orders WHERE normalized_phone IS NULL");
        set.Facts["completedOrders"] = await database.ScalarAsync<long>("SELECT count(*) FROM orders WHERE status = 'completed'");
        set.Facts["ordersTableMb"] = Math.Round(await database.ScalarAsync<long>("SELECT pg_total_relation_size('orders')") / 1048576.0);
    }

    private async Task MeasureSyncsAsync(FigureSet set, BenchDatabase database, AppUnderTest app, bool atOneMillion)
    {
        var fast = atOneMillion ? Target.AtMost(2500, "ms") : null;
        var firstEngine = set.Get("sync.first.engine", "first full sync: engine time (job's durationMs)", "ms", fast);
        var firstWall = set.Get("sync.first.wall", "first full sync: wall, POST → Succeeded", "ms", fast);
        var firstRss = set.Get("sync.first.rss", "app peak RSS during the first full sync", "MB", Target.AtMost(300, "MB"));
        var resyncEngine = set.Get("sync.resync.engine", "unchanged re-sync: engine time", "ms");
        var resyncWall = set.Get("sync.resync.wall", "unchanged re-sync: wall", "ms");
        var resyncRows = set.Get("sync.resync.rows", "unchanged re-sync: customer rows written", "rows", Target.AtMost(0, "rows"));
        var forceEngine = set.Get("sync.force.engine", "force sync (nothing changed): engine time", "ms");
        var forceWall = set.Get("sync.force.wall", "force sync (nothing changed): wall", "ms");
        var forceRows = set.Get("sync.force.rows", "force sync (nothing changed): rows written", "rows");
        var statsEngine = set.Get("sync.statsOnly.engine", "statsOnly sync: engine time", "ms");
        var statsWall = set.Get("sync.statsOnly.wall", "statsOnly sync: wall", "ms");
        var statsRows = set.Get("sync.statsOnly.rows", "statsOnly sync (nothing changed): rows written", "rows");
        var recalcEngine = set.Get("recalc.unchanged.engine", "category recalculation, nothing changed: engine time", "ms");
        var recalcWall = set.Get("recalc.unchanged.wall", "category recalculation, nothing changed: wall", "ms");
        var crossEngine = set.Get("recalc.crossing.engine", "category recalculation, 10% cross a threshold: engine time", "ms");
        var crossWall = set.Get("recalc.crossing.wall", "category recalculation, 10% cross a threshold: wall", "ms");

        var phones = (long)set.Facts["distinctPhones"];
        for (var run = 1; run <= options.Runs; run++)
        {
            await database.ResetCustomersAsync();
            await database.SettleAsync();
            app.ResetPeakRss();
            var first = await app.SyncAsync("default");
            firstRss.Add(app.PeakRssMb());
            firstEngine.Add(first.DurationMs);
            firstWall.Add(first.WallMs);
            if (first.Int("createdCount") != phones)
                throw new InvalidOperationException($"first sync created {first.Int("createdCount")} customers, expected {phones}");
            if (run == 1)
            {
                await database.SnapshotCustomersAsync("bench_ours");
                set.Facts["customersPerCategory"] = await CategoriesAsync(database);
                // The one-request import's sync must have produced what a full sync produces.
                set.Facts["importSyncDifferencesFromFullSync"] = await database.CountDifferencesAsync("bench_import");
                await database.ExecuteAsync("DROP TABLE bench_import");
            }
            await database.SettleAsync("customers");

            var resync = await TimedWriteAsync(database, () => app.SyncAsync("default"));
            resyncEngine.Add(resync.Job.DurationMs);
            resyncWall.Add(resync.Job.WallMs);
            resyncRows.Add(resync.Rows.Total);
            set.Facts["resyncReported"] = resync.Job.Result?.ToJsonString() ?? "";

            await database.SettleAsync();
            var force = await TimedWriteAsync(database, () => app.SyncAsync("force"));
            forceEngine.Add(force.Job.DurationMs);
            forceWall.Add(force.Job.WallMs);
            forceRows.Add(force.Rows.Total);

            await database.SettleAsync();
            var stats = await TimedWriteAsync(database, () => app.SyncAsync("statsOnly"));
            statsEngine.Add(stats.Job.DurationMs);
            statsWall.Add(stats.Job.WallMs);
            statsRows.Add(stats.Rows.Total);

            await database.SettleAsync();
            var unchanged = await app.RunJobAsync("/api/categories/recalculate");
            recalcEngine.Add(unchanged.DurationMs);
            recalcWall.Add(unchanged.WallMs);
            set.Facts["recalcUnchangedChanged"] = unchanged.Int("changedCount");

            // 10% of the customers (a pseudo-random, repeatable pick among those who are not
            // inactive yet) last bought 200 days ago: the recalculation must move them to inactive.
            await database.ExecuteAsync("""
                DROP TABLE IF EXISTS bench_crossing;
                CREATE TABLE bench_crossing AS
                    SELECT id, last_order_date FROM customers
                    WHERE total_orders > 0 AND category <> 'inactive'
                    ORDER BY md5(phone) LIMIT (SELECT count(*) / 10 FROM customers);
                """);
            var crossing = await database.ExecuteAsync("""
                UPDATE customers c SET last_order_date = now() - interval '200 days'
                FROM bench_crossing b WHERE c.id = b.id
                """);
            await database.SettleAsync("customers");
            var crossed = await app.RunJobAsync("/api/categories/recalculate");
            crossEngine.Add(crossed.DurationMs);
            crossWall.Add(crossed.WallMs);
            set.Facts["recalcCrossingChanged"] = crossed.Int("changedCount");
            set.Facts["recalcCrossingExpected"] = crossing;
            if (crossed.Int("changedCount") != crossing)
                Log($"WARNING: the recalculation changed {crossed.Int("changedCount")} categories, expected {crossing}");

            // Restore: the dates back, then the categories back.
            await database.ExecuteAsync("""
                UPDATE customers c SET last_order_date = b.last_order_date FROM bench_crossing b WHERE c.id = b.id;
                DROP TABLE bench_crossing;
                """);
            await app.RunJobAsync("/api/categories/recalculate");

            Log($"sync run {run}: first {first.DurationMs:F0} ms (wall {first.WallMs:F0}, RSS {app.PeakRssMb():F0} MB), " +
                $"re-sync {resync.Job.DurationMs:F0} ms / {resync.Rows.Total} rows, force {force.Job.DurationMs:F0} ms, " +
                $"statsOnly {stats.Job.DurationMs:F0} ms, recalc {unchanged.DurationMs:F0} ms, " +
                $"recalc 10% {crossed.DurationMs:F0} ms ({crossed.Int("changedCount")} changed)");
        }
    }

    // A job and the customer rows its transaction inserted, updated or deleted.
    private static async Task<(JobOutcome Job, RowsWritten Rows)> TimedWriteAsync(BenchDatabase database, Func<Task<JobOutcome>> job)
    {
        var xid = await database.NextXidAsync();
        var before = await database.CountCustomersAsync();
        var outcome = await job();
        return (outcome, await database.RowsWrittenSinceAsync(xid, before));
    }

    private static async Task<Dictionary<string, long>> CategoriesAsync(BenchDatabase database)
    {
        var result = new Dictionary<string, long>();
        await using var command = database.DataSource.CreateCommand("SELECT category, count(*) FROM customers GROUP BY category ORDER BY category");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            result[reader.GetString(0)] = reader.GetInt64(1);
        return result;
    }

    private async Task MeasureReferenceAsync(FigureSet set, BenchDatabase database)
    {
        var reference = set.Get("reference", "reference statement (one hand-written INSERT … SELECT)", "ms");
        for (var run = 1; run <= options.Runs; run++)
        {
            await database.ResetCustomersAsync();
            await database.SettleAsync();
            reference.Add(await database.TimeAsync(ReferenceSync.Sql));
            if (run == 1)
                set.Facts["referenceDifferencesFromOurs"] = await database.CountDifferencesAsync("bench_ours");
            Log($"reference run {run}: {reference.Samples[^1]:F0} ms");
        }
    }

    // --explain, after the measured runs: the reference statement's plan and cost breakdown,
    // and the plans of the engine's slow statements in a first and an unchanged sync.
    private async Task ExplainAsync(FigureSet set, BenchDatabase database)
    {
        var label = $"N={set.Orders:N0}";
        await database.ResetCustomersAsync();
        await database.SettleAsync();
        var plan = await ReferenceSync.ExplainAsync(database);
        Explanations.Add(($"EXPLAIN (ANALYZE, BUFFERS) of the reference statement, {label}", plan));
        set.Facts["referencePlan"] = plan;

        var breakdown = await ReferenceSync.BreakdownAsync(database);
        var rows = new List<string[]> { new[] { "part of the reference statement (1 run each)", "ms" } };
        rows.AddRange(breakdown.Select(b => new[] { b.Key, Target.Format(b.Value) }));
        Explanations.Add(($"Where the reference statement's time goes, {label}", FigureSet.Render(rows, rightAligned: [1])));
        set.Facts["referenceBreakdownMs"] = breakdown.ToDictionary(b => b.Key, b => Math.Round(b.Value));

        var enginePlans = await EnginePlansAsync(database);
        if (enginePlans is not null)
        {
            Explanations.Add(($"The engine's statements slower than 100 ms (auto_explain), first sync then unchanged re-sync, {label}", enginePlans));
            set.Facts["enginePlans"] = enginePlans;
        }

        var erasePlans = await ErasePlansAsync(database);
        if (erasePlans is not null)
        {
            Explanations.Add(($"Every statement of one person's erase (1 000 orders), auto_explain with buffers, {label}", erasePlans));
            set.Facts["erasePlans"] = erasePlans;
        }
    }

    // auto_explain, loaded for this database only and only for this extra pass (the measured runs
    // ran without it), logs the plan of every statement of the app's sessions slower than 100 ms
    // with actual times and buffers to PostgreSQL's log, read back from --server-log.
    private async Task<string?> EnginePlansAsync(BenchDatabase database)
    {
        if (options.ServerLog is not { } serverLog || !File.Exists(serverLog))
        {
            Log("--explain: PostgreSQL's log file is unknown (--server-log): the engine's plans are skipped");
            return null;
        }
        await database.LogPlansAsync(minDurationMs: 100);
        var start = new FileInfo(serverLog).Length;
        try
        {
            await using var app = await AppUnderTest.StartAsync(options.AppDll, database.ConnectionString, AppLog("app-explain"));
            await database.ResetCustomersAsync();
            await database.SettleAsync();
            await app.SyncAsync("default");
            await database.SettleAsync("customers");
            await app.SyncAsync("default");
        }
        finally
        {
            await database.ExecuteAsync($"ALTER DATABASE {database.Name} RESET ALL");
        }
        return AutoExplainEntries(serverLog, start);
    }

    // The "duration: … plan:" entries of the log after offset, with their indented continuation lines.
    private static string AutoExplainEntries(string serverLog, long offset)
    {
        using var stream = new FileStream(serverLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        var text = new System.Text.StringBuilder();
        var inEntry = false;
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains("LOG:  duration:", StringComparison.Ordinal))
            {
                inEntry = true;
                text.AppendLine().AppendLine(line);
            }
            else if (inEntry && line.Length > 0 && char.IsWhiteSpace(line[0]))
            {
                text.AppendLine(line);
            }
            else
            {
                inEntry = false;
            }
        }
        return text.ToString();
    }

    // The Django CRM's algorithm and our first full sync on the same slice: every order of the first
    // phones (phone index < P × slice / N), in a database of its own with its own app. All of a
    // phone's orders are in it, so its per-customer work is that of the full set and the time
    // extrapolates to the full set linearly by phones.
    private async Task<FigureSet> MeasureSeedSliceAsync(OrderGenerator data)
    {
        var slicePhones = Math.Max(1, (int)((long)data.Phones * options.SeedSlice / data.Orders));
        var set = new FigureSet("seed slice", options.SeedSlice, slicePhones);
        Log($"seed slice: the orders of the first {slicePhones:N0} of {data.Phones:N0} phones");
        await using var database = await BenchDatabase.CreateAsync(options.Postgres, "crm_bench_slice");

        var ours = set.Get("slice.ours.engine", "slice: our first full sync, engine time", "ms");
        var oursWall = set.Get("slice.ours.wall", "slice: our first full sync, wall", "ms");
        await using (var app = await AppUnderTest.StartAsync(options.AppDll, database.ConnectionString, AppLog("app-slice")))
        {
            await database.DisableAutovacuumAsync();
            var orders = Enumerable.Range(0, data.Orders).Where(i => data.PhoneOf(i) < slicePhones).Select(i => data[i]);
            var import = await app.ImportAsync(orders);
            await app.WaitJobAsync(import.JobId!);
            set.Facts["orders"] = import.Imported;
            await database.SettleAsync("orders");
            set.Facts["distinctPhones"] = await database.ScalarAsync<long>("SELECT count(DISTINCT normalized_phone) FROM orders");

            for (var run = 1; run <= options.Runs; run++)
            {
                await database.ResetCustomersAsync();
                await database.SettleAsync();
                var first = await app.SyncAsync("default");
                ours.Add(first.DurationMs);
                oursWall.Add(first.WallMs);
                if (run == 1)
                    await database.SnapshotCustomersAsync("bench_ours");
                Log($"slice run {run}: ours {first.DurationMs:F0} ms (wall {first.WallMs:F0})");
            }
        }

        // The app is stopped: the Django CRM's loop has the machine to itself, as our sync had.
        var seed = set.Get("slice.seed", "slice: the seed's algorithm (EF Core, per phone)", "ms");
        // Untimed warm-up of EF Core's model and the JIT, on a few phones.
        await database.ResetCustomersAsync();
        await SeedAlgorithm.RunAsync(database.DataSource, limit: 50);
        for (var run = 1; run <= options.Runs; run++)
        {
            await database.ResetCustomersAsync();
            await database.SettleAsync();
            var outcome = await SeedAlgorithm.RunAsync(database.DataSource, Log);
            seed.Add(outcome.WallMs);
            set.Facts["seedErrors"] = outcome.Errors;
            if (run == 1)
                set.Facts["seedDifferencesFromOurs"] = await database.CountDifferencesAsync("bench_ours");
            Log($"slice run {run}: seed {outcome.WallMs:F0} ms for {outcome.Phones:N0} phones " +
                $"({outcome.WallMs / outcome.Phones:F2} ms per customer, {outcome.Errors} errors)");
        }
        set.Get("slice.ratio", "slice: seed / ours (engine time), measured", "×", derived: true).Add(seed.Median / ours.Median);
        set.Get("slice.ratio.wall", "slice: seed / ours (wall), measured", "×", derived: true).Add(seed.Median / oursWall.Median);
        set.Get("slice.perCustomer", "slice: seed time per customer", "ms", derived: true)
            .Add(seed.Median / (long)set.Facts["distinctPhones"]);
        return set;
    }

    private static void AddSeedComparison(FigureSet set, FigureSet slice)
    {
        var perCustomer = slice.Find("slice.perCustomer")!.Median;
        var phones = (long)set.Facts["distinctPhones"];
        var extrapolated = perCustomer * phones;
        set.Get("seed.extrapolated", "seed's algorithm on this set: EXTRAPOLATED from the slice by phones", "ms", derived: true)
            .Add(extrapolated);
        set.Get("ratio.seed", "seed (extrapolated) / our first full sync (engine)", "×", Target.AtLeast(100, "×"), derived: true)
            .Add(extrapolated / set.Find("sync.first.engine")!.Median);
    }

    // Once: minutes per 100 000 customers.
    private static async Task MeasureSeedFullAsync(FigureSet set, BenchDatabase database)
    {
        Log($"seed's algorithm on the full set of {set.Orders:N0} orders (one run)");
        await database.ResetCustomersAsync();
        await database.SettleAsync();
        var outcome = await SeedAlgorithm.RunAsync(database.DataSource, Log);
        set.Get("seed.full", "seed's algorithm on the full set, measured (1 run)", "ms").Add(outcome.WallMs);
        set.Get("ratio.seed.full", "seed (measured) / our first full sync (engine)", "×", Target.AtLeast(100, "×"), derived: true)
            .Add(outcome.WallMs / set.Find("sync.first.engine")!.Median);
        set.Facts["seedFullErrors"] = outcome.Errors;
        set.Facts["seedFullDifferencesFromOurs"] = await database.CountDifferencesAsync("bench_ours");
        Log($"seed full: {outcome.WallMs / 1000:F0} s for {outcome.Phones:N0} phones");
    }

    private static IEnumerable<GeneratedOrder> Range(OrderGenerator data, int from, int count)
    {
        for (var i = from; i < from + count; i++)
            yield return data[i];
    }

    private string AppLog(string name) => Path.Combine(options.WorkDir, $"{name}.log");
}
