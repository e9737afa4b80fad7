using Crm.Bench.Http;

// bench/http.sh runs this after starting a throwaway PostgreSQL and building the servers.
var options = BenchOptions.Parse(args);
if (options is null)
    return args.Contains("--help") || args.Contains("-h") ? 0 : 2;

var admin = Environment.GetEnvironmentVariable("CRM_BENCH_POSTGRES");
if (string.IsNullOrWhiteSpace(admin))
{
    Console.Error.WriteLine("Crm.Bench.Http: CRM_BENCH_POSTGRES (an admin connection string) is not set; run bench/http.sh.");
    return 2;
}

await using var db = new BenchDatabase(admin);
return await new HttpBench(options, db).RunAsync();
