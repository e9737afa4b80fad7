using Crm.Bench;

// Crm.Bench: measures crm-minimal through its real HTTP API on a PostgreSQL it is given
// (bench/run.sh starts a throwaway one), against the Django CRM's algorithm and a hand-written
// reference statement. Prints tables; writes JSON to bench/results/.
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
if (!File.Exists(options.AppDll))
{
    Console.Error.WriteLine($"{options.AppDll} not found: build Crm.Api in Release first (bench/run.sh does).");
    return 2;
}

AppUnderTest.JobTimeout = TimeSpan.FromMinutes(options.JobTimeoutMinutes);
var machine = await Report.DescribeMachineAsync(options.Postgres);
Benchmark.Log($"{machine["cpu"]}, {machine["nproc"]} CPUs, {machine["ramGb"]} GB; {machine["postgres"]}; {machine["dotnet"]}");
Benchmark.Log($"app logs in {options.WorkDir}");

// Whole seconds: the generated createdAt values need no sub-second precision.
var now = DateTime.UtcNow;
now = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
if (options.Ledger)
    return await LedgerAsync(options, now, machine);
if (options.Webhooks && options.Lanes)
    return await WebhookLanesAsync(options, machine);
if (options.Webhooks)
    return await WebhooksAsync(options, now, machine);

var benchmark = new Benchmark(options, now);
try
{
    await benchmark.RunAsync();
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException or Npgsql.NpgsqlException)
{
    // A failed measurement is reported, not half-printed as if it were a result.
    Console.Error.WriteLine($"Crm.Bench failed: {e.Message}");
    Console.Error.WriteLine(e.StackTrace);
    return 1;
}

Console.Write(Report.Tables(benchmark.Sets, options));
foreach (var (title, text) in benchmark.Explanations)
{
    Console.WriteLine();
    Console.WriteLine($"== {title} ==");
    Console.Write(text);
}
machine["loadAverageAtEnd"] = Report.LoadAverage();
Console.WriteLine();
Console.WriteLine($"load average (1, 5, 15 min) at start {machine["loadAverageAtStart"]}, at end {machine["loadAverageAtEnd"]}; revision {options.Revision ?? "unknown"}");
var path = await Report.WriteJsonAsync(options.ResultsDir, machine, options, benchmark.Sets);
Console.WriteLine();
Console.WriteLine($"JSON: {path}");
return 0;

// --ledger (bench/ledger.sh): the change ledger's cost, its own tables and JSON (ledger-<timestamp>.json).
static async Task<int> LedgerAsync(BenchOptions options, DateTime now, Dictionary<string, object> machine)
{
    var ledger = new LedgerBenchmark(options, now);
    try
    {
        await ledger.RunAsync();
    }
    catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException or Npgsql.NpgsqlException)
    {
        Console.Error.WriteLine($"Crm.Bench --ledger failed: {e.Message}");
        Console.Error.WriteLine(e.StackTrace);
        return 1;
    }
    foreach (var set in ledger.Sets)
    {
        Console.WriteLine();
        Console.WriteLine($"== the change ledger's cost: {set.Orders:N0} orders over {set.Facts["distinctPhones"]:N0} customers " +
            $"({options.Runs} pairs, ledger on vs off; budget ≤ 1.15×) ==");
        Console.Write(set.Table());
        foreach (var (key, value) in set.Facts)
        {
            if (value is not string s || !s.Contains('\n'))
                Console.WriteLine($"  {key}: {value}");
        }
    }
    foreach (var (title, text) in ledger.Explanations)
    {
        Console.WriteLine();
        Console.WriteLine($"== {title} ==");
        Console.Write(text);
    }
    machine["loadAverageAtEnd"] = Report.LoadAverage();
    Console.WriteLine();
    Console.WriteLine($"load average (1, 5, 15 min) at start {machine["loadAverageAtStart"]}, at end {machine["loadAverageAtEnd"]}; revision {options.Revision ?? "unknown"}");
    Console.WriteLine($"JSON: {await Report.WriteJsonAsync(options.ResultsDir, machine, options, ledger.Sets, "ledger-")}");
    return 0;
}

// --webhooks --lanes (bench/webhooks.sh --lanes): delivery in lanes against one lane (issue 23).
static async Task<int> WebhookLanesAsync(BenchOptions options, Dictionary<string, object> machine)
{
    var lanes = new WebhookLanesBenchmark(options);
    try
    {
        await lanes.RunAsync();
    }
    catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException or Npgsql.NpgsqlException)
    {
        Console.Error.WriteLine($"Crm.Bench --webhooks --lanes failed: {e.Message}");
        return 1;
    }
    Console.WriteLine("== webhook lanes: 50 000 events (10 000 customers × 5), from the first event's commit to the last delivered ==");
    foreach (var line in lanes.Lines)
        Console.WriteLine(line);
    Console.WriteLine($"load average (1, 5, 15 min) at start {machine["loadAverageAtStart"]}, at end {Report.LoadAverage()}; revision {options.Revision ?? "unknown"}");
    return 0;
}

// --webhooks (bench/webhooks.sh): a recalculation that moves --moved customers, with a
// subscription and without; its delivery to a receiver in this process. JSON: webhooks-<timestamp>.json.
static async Task<int> WebhooksAsync(BenchOptions options, DateTime now, Dictionary<string, object> machine)
{
    var webhooks = new WebhookBenchmark(options, now);
    try
    {
        await webhooks.RunAsync();
    }
    catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException or Npgsql.NpgsqlException)
    {
        Console.Error.WriteLine($"Crm.Bench --webhooks failed: {e.Message}");
        Console.Error.WriteLine(e.StackTrace);
        return 1;
    }
    foreach (var set in webhooks.Sets)
    {
        Console.WriteLine();
        Console.WriteLine($"== webhooks: a recalculation that moves {set.Facts["movedCustomers"]:N0} customers, {set.Orders:N0} orders over " +
            $"{set.Facts["distinctPhones"]:N0} customers ({options.Runs} pairs, with a subscription vs without) ==");
        Console.Write(set.Table());
        foreach (var (key, value) in set.Facts)
        {
            if (value is not string s || !s.Contains('\n'))
                Console.WriteLine($"  {key}: {value}");
        }
    }
    foreach (var (title, text) in webhooks.Explanations)
    {
        Console.WriteLine();
        Console.WriteLine($"== {title} ==");
        Console.Write(text);
    }
    machine["loadAverageAtEnd"] = Report.LoadAverage();
    Console.WriteLine();
    Console.WriteLine($"load average (1, 5, 15 min) at start {machine["loadAverageAtStart"]}, at end {machine["loadAverageAtEnd"]}; revision {options.Revision ?? "unknown"}");
    Console.WriteLine($"JSON: {await Report.WriteJsonAsync(options.ResultsDir, machine, options, webhooks.Sets, "webhooks-")}");
    return 0;
}
