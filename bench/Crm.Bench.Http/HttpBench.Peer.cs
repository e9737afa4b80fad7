namespace Crm.Bench.Http;

public sealed partial class HttpBench
{
    // GET customer by id at -c16 against the bare minimal-API peer (bench/BarePeer) on the
    // same table, runs interleaved (app, peer, app, peer, …) so that a noisy moment on the
    // shared machine hits both; the ratio is of the medians.
    private async Task PeerAsync()
    {
        Section($"Get-by-id throughput: crm-minimal vs the bare peer, wrk -t1 -c16, {options.Runs} interleaved runs of {options.DurationSeconds} s");
        await CompareJsonAsync();

        var appScript = Script("get-by-id", Wrk.RandomIdScript("/api/customers/", firstCustomerId, lastCustomerId));
        var peerScript = Script("peer-get-by-id", Wrk.RandomIdScript("/customers/", firstCustomerId, lastCustomerId));
        // A longer warm-up than the other endpoints': the peer has served nothing yet, and
        // both must have their hot paths recompiled by the tiered JIT before they are compared.
        if (options.WarmupSeconds > 0)
        {
            await Wrk.RunAsync(app!.BaseUrl + "/", 16, 2 * options.WarmupSeconds, appScript, ApiKey);
            await Wrk.RunAsync(peer!.BaseUrl + "/", 16, 2 * options.WarmupSeconds, peerScript, ApiKey);
        }

        var ours = new List<WrkResult>();
        var theirs = new List<WrkResult>();
        for (var run = 1; run <= options.Runs; run++)
        {
            foreach (var (name, server, script, results) in new[]
            {
                ("crm-minimal", app!, appScript, ours),
                ("bare peer", peer!, peerScript, theirs),
            })
            {
                var result = await Wrk.RunAsync(server, server.BaseUrl + "/", 16, options.DurationSeconds, script, ApiKey);
                results.Add(result);
                Console.WriteLine($"  run {run} {name,-12} {Report.Format(result.RequestsPerSecond, "req/s"),8} req/s  " +
                    $"p50 {Report.Format(result.P50Ms, "ms")} ms  p99 {Report.Format(result.P99Ms, "ms")} ms  " +
                    $"{Report.Format(result.ServerCpuUsPerRequest, "µs")} µs cpu/req" +
                    (result.Non2xx + result.SocketErrors > 0 ? $"  {result.Non2xx + result.SocketErrors} non-2xx/errors" : ""));
            }
        }

        var ourRps = ours.Select(r => r.RequestsPerSecond).ToList();
        var peerRps = theirs.Select(r => r.RequestsPerSecond).ToList();
        var ratio = Stats.Median(ourRps) / Stats.Median(peerRps);
        var ourCpu = ours.Select(r => r.ServerCpuUsPerRequest).ToList();
        var peerCpu = theirs.Select(r => r.ServerCpuUsPerRequest).ToList();
        var cpuRatio = Stats.Median(ourCpu) / Stats.Median(peerCpu);
        Console.WriteLine($"  crm-minimal {Stats.MinMedianMax(ourRps, "req/s")}; {Stats.MinMedianMax(ourCpu, "µs")} CPU per request");
        Console.WriteLine($"  bare peer   {Stats.MinMedianMax(peerRps, "req/s")}; {Stats.MinMedianMax(peerCpu, "µs")} CPU per request");
        Console.WriteLine($"  ratio of the medians: {ratio:0.00}× the peer's req/s (target ≥ 0.8×); {cpuRatio:0.00}× its CPU per request");

        foreach (var (name, results) in new[] { ("crm-minimal c16", ours), ("bare peer c16", theirs) })
        {
            var median = results.OrderBy(r => r.RequestsPerSecond).ElementAt((results.Count - 1) / 2);
            report.Latency.Add(new LatencyRow($"GET customer by id, {name}, median run", 16, median.P50Ms, median.P99Ms,
                median.RequestsPerSecond, median.Requests, median.Non2xx + median.SocketErrors, median.ServerCpuUsPerRequest, "", null));
        }
        report.Add("get-by-id throughput c16, crm-minimal (median)", Stats.Median(ourRps), "req/s");
        report.Add("get-by-id throughput c16, bare peer (median)", Stats.Median(peerRps), "req/s");
        report.Add("get-by-id throughput ratio crm-minimal / bare peer", ratio, "×", "≥ 0.8×", ratio >= 0.8);
        report.Add("get-by-id server CPU per request, crm-minimal (median)", Stats.Median(ourCpu), "µs");
        report.Add("get-by-id server CPU per request, bare peer (median)", Stats.Median(peerCpu), "µs");
        report.Details["getById"] = new
        {
            crmMinimal = ours,
            barePeer = theirs,
            crmMinimalMinMedianMax = new[] { ourRps.Min(), Stats.Median(ourRps), ourRps.Max() },
            barePeerMinMedianMax = new[] { peerRps.Min(), Stats.Median(peerRps), peerRps.Max() },
            ratioOfMedians = ratio,
            cpuPerRequestRatioOfMedians = cpuRatio,
        };
    }

    // The peer must answer with the very same body, or the comparison is unfair one way or the other.
    private async Task CompareJsonAsync()
    {
        using var http = ApiClient(app!.BaseUrl);
        var id = (firstCustomerId + lastCustomerId) / 2;
        var ours = await http.GetStringAsync($"{app.BaseUrl}/api/customers/{id}");
        var theirs = await http.GetStringAsync($"{peer!.BaseUrl}/customers/{id}");
        var same = ours == theirs;
        report.Details["peerSameJson"] = same;
        Console.WriteLine(same
            ? $"  the peer's body for customer {id} is byte-for-byte the app's ({ours.Length} bytes)"
            : $"  WARNING: the bodies differ:\n    app:  {ours}\n    peer: {theirs}");
    }
}
