using System.Diagnostics;
using System.Net;

namespace Crm.Bench;

// Issue 24: one customer's statistics job for customers with three phones, measured as the
// one-phone job is (MeasureStatisticsJobAsync): each sampled customer gets two other phones
// through POST /api/customers/{id}/phones, each phone with orders of its own, then a completed
// order on one of them is written straight into `orders` and POST update-stats → Succeeded →
// the customer's row exact over all three phones. Must stay flat in N.
public sealed partial class Benchmark
{
    private const int OrdersPerOtherPhone = 3;

    private static async Task MeasureSeveralPhonesStatisticsJobAsync(
        FigureSet set, BenchDatabase database, AppUnderTest app, List<SampledCustomer> customers, List<long> added)
    {
        const string what = "one customer's statistics job, 3 phones";
        var addPhone = set.Get("phones.add", $"POST /api/customers/{{id}}/phones answered, p50 of {2 * JobSamples} (min–max)", "ms");
        var engine = set.Get("stats.threePhones.engine", $"{what}: engine time (durationMs), p50 of {JobSamples} (min–max)", "ms");
        var wall = set.Get("stats.threePhones.wall", $"{what}: wall, POST → Succeeded, p50 of {JobSamples} (min–max)", "ms");
        var otherPhones = new List<string>();
        var notExact = 0;
        try
        {
            for (var i = 0; i < customers.Count; i++)
            {
                var customer = customers[i];
                // +7 800 … : toll-free numbers, which the generated data never uses.
                string[] others = [$"+7800{2 * i:D7}", $"+7800{2 * i + 1:D7}"];
                // The phone first, then its orders: no sync ever sees them without their customer.
                foreach (var other in others)
                {
                    var (body, ms) = await app.SendAsync(HttpMethod.Post, $"/api/customers/{customer.Id}/phones", new { phone = other }, HttpStatusCode.Created);
                    otherPhones.Add(other);
                    await app.WaitJobAsync((string)body["syncJobId"]!);
                    if (i >= WarmUpSamples)
                        addPhone.Add(ms);
                    for (var n = 0; n < OrdersPerOtherPhone; n++)
                        added.Add(await database.InsertCompletedOrderAsync(customer with { Phone = other }, 100m + n));
                }

                added.Add(await database.InsertCompletedOrderAsync(customer with { Phone = others[1] }, 1_000m + i));
                var stopwatch = Stopwatch.StartNew();
                var (accepted, _) = await app.SendAsync(HttpMethod.Post, $"/api/customers/{customer.Id}/update-stats", null, HttpStatusCode.Accepted);
                var job = await app.WaitJobAsync((string)accepted["jobId"]!, stopwatch, ExactPollInterval);
                var expected = await database.CompletedTotalsAsync([customer.Phone, .. others]);
                var actual = (await database.CustomerTotalsAsync([customer.Id])).GetValueOrDefault(customer.Id);
                if (actual != expected)
                {
                    notExact++;
                    Log($"WARNING: statistics job {job.JobId} succeeded but customer {customer.Id} has {actual}, its three phones' orders {expected}");
                }
                if (i < WarmUpSamples)
                    continue;
                engine.Add(job.DurationMs);
                wall.Add(job.WallMs);
            }
        }
        finally
        {
            // The customers keep one phone again, as generated (their rows are recounted by later work).
            await database.DeleteOtherPhonesAsync(otherPhones);
        }
        AddP99(set, engine, "stats.threePhones.engine.p99", $"{what}: engine time, p99 of {JobSamples}");
        AddP99(set, wall, "stats.threePhones.wall.p99", $"{what}: wall, p99 of {JobSamples}");
        set.Facts["statsThreePhonesNotExact"] = notExact;
        Log($"{what}: engine p50 {engine.Median:F1} / p99 {engine.Percentile(0.99):F1} ms, wall p50 {wall.Median:F1} ms, " +
            $"adding a phone p50 {addPhone.Median:F1} ms, {notExact} not exact");
    }
}
