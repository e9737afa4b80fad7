using System.Diagnostics;
using System.Net;

namespace Crm.Bench;

// Issue 24: merging two customers with 1 000 completed orders each, and undoing it, as a client
// waits for it: POST /api/customers/merge → 202 → its job Succeeded → the target's row exact
// over both phones; then POST /api/customers/merges/{id}/unmerge → 202 → Succeeded → both rows
// exact again. An operator's merge finds the service idle: each step starts IdleGap (the write
// window and a margin, Benchmark.WriteWindow) after the previous job, so its job syncs at once
// instead of waiting for the writes to pause as one in a burst does (back to back, each step
// took 0.2 s more: the pause). Each pair is made for the figure (two new phones, their orders
// written straight into `orders`, each customer created through the API and synced) and
// removed after it. Target: ≤ 100 ms at 1M orders, and flat in N.
public sealed partial class Benchmark
{
    private const int MergeSamples = 20;
    private const int OrdersPerMergedCustomer = 1_000;

    private static async Task MeasureMergeAsync(FigureSet set, BenchDatabase database, AppUnderTest app)
    {
        var what = $"merge of two customers with {OrdersPerMergedCustomer} orders each";
        var mergeWall = set.Get("merge.wall", $"{what}: wall, POST → job Succeeded → target exact, p50 of {MergeSamples} (min–max)", "ms",
            Target.AtMost(100, "ms"));
        var mergeAnswer = set.Get("merge.answer", $"{what}: POST /api/customers/merge answered, p50 of {MergeSamples}", "ms");
        var unmergeWall = set.Get("unmerge.wall", $"the unmerge of it: wall, POST → job Succeeded → both exact, p50 of {MergeSamples} (min–max)", "ms",
            Target.AtMost(100, "ms"));
        var unmergeAnswer = set.Get("unmerge.answer", $"the unmerge: POST …/unmerge answered, p50 of {MergeSamples}", "ms");
        var notExact = 0;
        var phones = new List<string>();
        try
        {
            for (var i = 0; i < WarmUpSamples + MergeSamples; i++)
            {
                // +7 801 … : numbers the generated data never uses.
                string[] pair = [$"+7801{2 * i:D7}", $"+7801{2 * i + 1:D7}"];
                phones.AddRange(pair);
                var ids = new long[2];
                for (var k = 0; k < 2; k++)
                {
                    await database.InsertCompletedOrdersAsync(pair[k], OrdersPerMergedCustomer);
                    var (created, _) = await app.SendAsync(HttpMethod.Post, "/api/customers",
                        new { name = $"Слияние {i}.{k}", phone = pair[k] }, HttpStatusCode.Created);
                    ids[k] = (long)created["id"]!;
                }
                await WaitExactAsync(database, [(ids[0], [pair[0]]), (ids[1], [pair[1]])]);

                await Task.Delay(IdleGap);
                var stopwatch = Stopwatch.StartNew();
                var (merged, answerMs) = await app.SendAsync(HttpMethod.Post, "/api/customers/merge",
                    new { targetId = ids[0], sourceIds = new[] { ids[1] } }, HttpStatusCode.Accepted);
                await app.WaitJobAsync((string)merged["jobId"]!, stopwatch, ExactPollInterval);
                notExact += await WaitExactAsync(database, [(ids[0], pair)]);
                var mergeMs = stopwatch.Elapsed.TotalMilliseconds;

                await Task.Delay(IdleGap);
                stopwatch.Restart();
                var (unmerged, unmergeAnswerMs) = await app.SendAsync(HttpMethod.Post,
                    $"/api/customers/merges/{merged["mergeId"]}/unmerge", null, HttpStatusCode.Accepted);
                await app.WaitJobAsync((string)unmerged["jobId"]!, stopwatch, ExactPollInterval);
                notExact += await WaitExactAsync(database, [(ids[0], [pair[0]]), (ids[1], [pair[1]])]);
                var unmergeMs = stopwatch.Elapsed.TotalMilliseconds;
                if (i < WarmUpSamples)
                    continue;
                mergeWall.Add(mergeMs);
                mergeAnswer.Add(answerMs);
                unmergeWall.Add(unmergeMs);
                unmergeAnswer.Add(unmergeAnswerMs);
            }
        }
        finally
        {
            // The data as generated again: the pairs' orders and customers go.
            await database.DeleteCustomersAndOrdersOfAsync(phones);
        }
        AddP99(set, mergeWall, "merge.wall.p99", $"{what}: wall, p99 of {MergeSamples}");
        AddP99(set, unmergeWall, "unmerge.wall.p99", $"the unmerge: wall, p99 of {MergeSamples}");
        set.Facts["mergeNotExact"] = notExact;
        Log($"{what}: p50 {mergeWall.Median:F1} ms (answered {mergeAnswer.Median:F1}), unmerge p50 {unmergeWall.Median:F1} ms " +
            $"(answered {unmergeAnswer.Median:F1}), {notExact} not exact when the job succeeded");
    }

    // Polls until each customer's row matches the completed orders of its phones; returns 1 if
    // that was not so at the first look (the job succeeded before the row was exact), else 0.
    private static async Task<int> WaitExactAsync(BenchDatabase database, (long Id, string[] Phones)[] customers)
    {
        var deadline = Stopwatch.StartNew();
        for (var look = 0; ; look++)
        {
            var actual = await database.CustomerTotalsAsync(customers.Select(c => c.Id));
            var exact = true;
            foreach (var (id, phones) in customers)
                exact &= actual.GetValueOrDefault(id) == await database.CompletedTotalsAsync(phones);
            if (exact)
                return look == 0 ? 0 : 1;
            if (deadline.Elapsed > ExactTimeout)
                throw new TimeoutException($"customers {string.Join(", ", customers.Select(c => c.Id))} not exact after {ExactTimeout}");
            await Task.Delay(ExactPollInterval);
        }
    }
}
