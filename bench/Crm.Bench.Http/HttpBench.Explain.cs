using System.Text;

namespace Crm.Bench.Http;

public sealed partial class HttpBench
{
    // The real plans of the real queries: PostgreSQL's auto_explain logs EXPLAIN (ANALYZE,
    // BUFFERS) of every statement in new sessions of the benchmark database, while a
    // separate app process (role api, so no job server adds statements) answers one request
    // of each list endpoint. So the plans are those of the SQL EF Core sends today, with its
    // parameters, whatever the app's code has become.
    private async Task ExplainAsync()
    {
        Section("EXPLAIN (ANALYZE, BUFFERS) of the list and search queries (auto_explain, one request each)");
        var logPath = await ServerLogPathAsync();
        if (logPath is null)
        {
            Console.WriteLine("  skipped: PostgreSQL's log file is not readable here (set CRM_BENCH_PG_LOG)");
            return;
        }

        string[] settings =
        [
            "session_preload_libraries = 'auto_explain'",
            "auto_explain.log_min_duration = 0",
            "auto_explain.log_analyze = on",
            "auto_explain.log_buffers = on",
            "auto_explain.log_timing = on",
        ];
        foreach (var setting in settings)
            await db.ScalarAsync<object>($"ALTER DATABASE {BenchDatabase.Name} SET {setting}");
        try
        {
            await using var explainApp = await StartAppAsync("explain", "api");
            using var http = ApiClient(explainApp.BaseUrl, 1);
            foreach (var endpoint in (await EndpointsAsync()).Where(e => e.Target is ListTarget or SearchTarget))
            {
                var path = new Uri(endpoint.Url).PathAndQuery;
                await http.GetStringAsync(path); // the first request pays for the plan cache and JIT
                var before = new FileInfo(logPath).Length;
                using (var response = await http.GetAsync(path))
                    response.EnsureSuccessStatusCode();
                await Task.Delay(200); // the log is written by another process
                var plans = ReadPlans(logPath, before);
                var text = $"-- {endpoint.Name}\n{plans}";
                report.Explain.Add(text);
                Console.WriteLine(text);
            }
        }
        finally
        {
            foreach (var name in new[] { "session_preload_libraries", "auto_explain.log_min_duration", "auto_explain.log_analyze",
                         "auto_explain.log_buffers", "auto_explain.log_timing" })
                await db.ScalarAsync<object>($"ALTER DATABASE {BenchDatabase.Name} RESET {name}");
        }
    }

    // bench/http.sh passes the log it started PostgreSQL with; otherwise scripts/pg.sh's place.
    private async Task<string?> ServerLogPathAsync()
    {
        var path = Environment.GetEnvironmentVariable("CRM_BENCH_PG_LOG");
        if (string.IsNullOrEmpty(path))
            path = Path.Combine(await db.ScalarAsync<string>("SELECT current_setting('data_directory')"), "server.log");
        try
        {
            using var _ = File.OpenRead(path);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // The auto_explain entries written after `offset` that are about the customers table.
    private static string ReadPlans(string logPath, long offset)
    {
        using var stream = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        var lines = new StreamReader(stream, Encoding.UTF8).ReadToEnd().Split('\n');
        var plans = new StringBuilder();
        var entry = new List<string>();

        void Flush()
        {
            if (entry.Any(l => l.Contains("FROM customers")))
                plans.AppendLine(string.Join('\n', entry));
            entry.Clear();
        }

        foreach (var line in lines)
        {
            // A log entry starts with a timestamp; auto_explain's plan lines are indented continuations.
            if (line.Length > 0 && !char.IsWhiteSpace(line[0]))
            {
                Flush();
                if (line.Contains("duration:") && line.Contains("plan:"))
                    entry.Add(line);
            }
            else if (entry.Count > 0)
            {
                entry.Add(line);
            }
        }
        Flush();
        return plans.ToString();
    }
}
