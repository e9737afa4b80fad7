using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Crm.Bench.Http;

public sealed partial class HttpBench
{
    private const double CsvMaxSeconds = 5;

    // Issue 25: a segment as a spreadsheet file, from outside. GET /api/customers with
    // Accept: text/csv, request → last byte, the rows counted; the app's resident memory
    // sampled meanwhile (flat: the whole table must not cost more than a tenth of it).
    // Alternated with the reference, PostgreSQL's own COPY (...) TO STDOUT (FORMAT csv) of
    // the same rows in the same order, read by this process.
    private async Task CsvExportAsync()
    {
        Section($"Segments as CSV: GET /api/customers with Accept: text/csv, {options.Runs} runs each, alternated with COPY ... TO STDOUT");
        var total = await db.ScalarAsync<long>("SELECT count(*) FROM customers");
        var tenth = await db.ScalarAsync<DateTime>(
            "SELECT created_at FROM customers ORDER BY created_at DESC OFFSET @n LIMIT 1", ("n", (int)(total / 10) - 1));
        var from = DateTime.SpecifyKind(tenth, DateTimeKind.Utc);
        var segments = new (string Name, string Query, string Where, long Rows)[]
        {
            ("a tenth (createdFrom)", "createdFrom=" + Uri.EscapeDataString(from.ToString("O")),
                $"created_at >= '{from:yyyy-MM-dd HH:mm:ss.ffffff}'",
                await db.ScalarAsync<long>("SELECT count(*) FROM customers WHERE created_at >= @at", ("at", from))),
            ("the whole table", "", "true", total),
        };
        using var http = ApiClient(app!.BaseUrl, 1);
        http.Timeout = TimeSpan.FromMinutes(5);
        foreach (var segment in segments)
        {
            var ours = new List<double>();
            var copy = new List<double>();
            var growth = new List<double>();
            for (var run = 0; run < options.Runs; run++)
            {
                var (seconds, rows, grownMb) = await DownloadCsvAsync(http, segment.Query);
                if (rows != segment.Rows)
                    throw new InvalidOperationException($"CSV of {segment.Name}: {rows} rows, the database has {segment.Rows}");
                ours.Add(seconds);
                growth.Add(grownMb);
                copy.Add(await CopyCsvAsync(segment.Where));
            }
            var name = $"CSV of {segment.Name} ({segment.Rows:N0} customers)";
            var p50 = Stats.Median(ours);
            Console.WriteLine($"  {name,-48} request → last byte {Stats.MinMedianMax(ours, "s")}; COPY {Stats.MinMedianMax(copy, "s")}; " +
                $"ratio {p50 / Stats.Median(copy):0.00}×; app memory +{Stats.MinMedianMax(growth, "MB")}");
            report.Add($"{name} request → last byte p50", p50, "s", $"≤ {CsvMaxSeconds} s", p50 <= CsvMaxSeconds);
            report.Add($"{name} COPY TO STDOUT p50 (reference)", Stats.Median(copy), "s");
            report.Add($"{name} ratio to COPY", p50 / Stats.Median(copy), "×");
            report.Add($"{name} app resident memory growth p50", Stats.Median(growth), "MB");
        }
    }

    // Seconds to the last byte, the CSV records read (the header is not one), and how far the
    // app's resident set grew above its level before the request.
    private async Task<(double Seconds, long Rows, double GrownMb)> DownloadCsvAsync(HttpClient http, string query)
    {
        var before = ResidentMb(app!.Id);
        var peak = before;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ResidentMb(app.Id));
                await Task.Delay(5);
            }
        });

        var clock = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/customers?" + query);
        request.Headers.Accept.ParseAdd("text/csv");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"CSV answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        await using var body = await response.Content.ReadAsStreamAsync();
        var lines = await CountLinesAsync(body, expectBom: true);
        var seconds = clock.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        return (seconds, lines - 1, Math.Max(0, peak - before));
    }

    private async Task<double> CopyCsvAsync(string where)
    {
        await using var connection = await db.DataSource.OpenConnectionAsync();
        var clock = Stopwatch.StartNew();
        using var reader = await connection.BeginTextExportAsync(
            "COPY (SELECT id, name, phone, email, city, address, notes, category, total_orders, total_spent, average_order, " +
            $"last_order_date, created_at, updated_at FROM customers WHERE {where} ORDER BY created_at DESC, id DESC) TO STDOUT (FORMAT csv, HEADER)");
        var buffer = new char[64 * 1024];
        while (await reader.ReadAsync(buffer) > 0)
        {
        }
        return clock.Elapsed.TotalSeconds;
    }

    // Records end with CRLF; the bench's customers have no line break inside a value, so a
    // record is a line (a count that disagrees with the database stops the run).
    private static async Task<long> CountLinesAsync(Stream body, bool expectBom)
    {
        var buffer = new byte[64 * 1024];
        long lines = 0;
        var first = true;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            if (first && expectBom && !(read >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF))
                throw new InvalidOperationException("The CSV does not start with the UTF-8 byte order mark");
            first = false;
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }
        return lines;
    }

    private static double ResidentMb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status", Encoding.ASCII))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return double.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
        }
        return 0;
    }
}
