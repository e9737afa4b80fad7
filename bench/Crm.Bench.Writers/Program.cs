using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;

// N writers POST orders for --seconds, each as soon as the previous answered, and write one
// line per attempt: writer, tag, sent and answered (Unix ms, this machine's clock), status
// (0 = no HTTP answer: the connection failed or timed out). Each order carries a tag of its
// own in deliveryAddress, so the orders stored can be counted against the 2xx answers.
//
//   Crm.Bench.Writers --url http://127.0.0.1:5080 --api-key KEY --phones FILE --tag ha-1
//                     [--writers 4] [--seconds 20] --out FILE
// FILE of phones: "phone|name" lines (psql -At), existing customers' phones.

var options = Args.Parse(args);
var customers = File.ReadAllLines(options["phones"])
    .Where(line => line.Length > 0)
    .Select(line => line.Split('|', 2))
    .ToArray();
if (customers.Length == 0)
    throw new InvalidOperationException("no phones in " + options["phones"]);
var writers = int.Parse(options.GetValueOrDefault("writers", "4"), CultureInfo.InvariantCulture);
var seconds = double.Parse(options.GetValueOrDefault("seconds", "20"), CultureInfo.InvariantCulture);
var tag = options["tag"];

using var http = new HttpClient { BaseAddress = new Uri(options["url"]), Timeout = TimeSpan.FromSeconds(30) };
http.DefaultRequestHeaders.Add("X-Api-Key", options["api-key"]);

var deadline = Stopwatch.StartNew();
var lines = new List<string>[writers];
await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
{
    var mine = lines[w] = [];
    var random = new Random(w);
    for (var seq = 0; deadline.Elapsed.TotalSeconds < seconds; seq++)
    {
        var (phone, name) = customers[random.Next(customers.Length)] switch { var c => (c[0], c.Length > 1 ? c[1] : "") };
        var orderTag = $"{tag}-{w}-{seq}";
        var sent = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        int status;
        try
        {
            using var response = await http.PostAsJsonAsync("/api/orders", new
            {
                customerName = name,
                customerPhone = phone,
                deliveryAddress = orderTag,
                totalAmount = 100 + random.Next(0, 9900),
                status = "completed",
            });
            status = (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            status = 0;
        }
        var answered = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        mine.Add(string.Join(',', w, orderTag, sent, answered, status));
        // A refused write answers at once: without a pause a writer would spin on 503s.
        if (status is 0 or >= 500)
            await Task.Delay(20);
    }
})));

await File.WriteAllLinesAsync(options["out"], lines.SelectMany(l => l));

internal static class Args
{
    public static Dictionary<string, string> Parse(string[] args)
    {
        var result = new Dictionary<string, string>();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException("unexpected argument " + args[i]);
            result[args[i][2..]] = args[i + 1];
        }
        foreach (var required in new[] { "url", "api-key", "phones", "tag", "out" })
        {
            if (!result.ContainsKey(required))
                throw new ArgumentException("missing --" + required);
        }
        return result;
    }
}
