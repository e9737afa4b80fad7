using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Crm.Tests.Infrastructure;

// Jobs run asynchronously: tests wait for a condition with a generous deadline, never a fixed sleep.
public static class Waiting
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Deadline);
        while (true)
        {
            var value = await probe();
            if (done(value))
                return value;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Gave up waiting for {what}; last seen: {Shown(value)}");
            await Task.Delay(50);
        }
    }

    // A list shows its first items, not its type.
    private static string Shown<T>(T value) => value is IEnumerable<string> items
        ? $"[{string.Join("; ", items.Take(10))}{(items.Skip(10).Any() ? "; …" : "")}]"
        : $"{value}";

    // POST /api/sync of a mode, waited for; returns the id of the run its job recorded.
    public static async Task<long> FullSyncRunAsync(this HttpClient client, string mode)
    {
        var jobId = (string)(await (await client.PostAsJsonAsync("/api/sync", new { mode })).ReadJsonAsync())["jobId"]!;
        await client.JobAsync(jobId);
        return await client.RunOfJobAsync(jobId);
    }

    // The sync run a job recorded (among the newest 200).
    public static async Task<long> RunOfJobAsync(this HttpClient client, string jobId)
    {
        var runs = await (await client.GetAsync("/api/sync/runs?pageSize=200")).ReadJsonAsync();
        return (long)runs["items"]!.AsArray().First(r => (string?)r!["jobId"] == jobId)!["id"]!;
    }

    // A job trigger's answer: 202 asserted, its job waited for until Succeeded; returns the body.
    public static async Task<JsonNode> AcceptedJobAsync(this HttpClient client, HttpResponseMessage response)
    {
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.ReadJsonAsync();
        await client.JobAsync((string)accepted["jobId"]!);
        return accepted;
    }

    // The job's status as the API reports it, once it reaches the state (or fails on the way).
    public static async Task<JsonNode> JobAsync(this HttpClient client, string jobId, string state = "Succeeded")
    {
        var job = await UntilAsync(
            async () => await (await client.GetAsync($"/api/jobs/{jobId}")).ReadJsonAsync(),
            job => (string?)job["state"] == state || (string?)job["state"] == "Failed",
            $"job {jobId} to reach {state}");
        Assert.True((string?)job["state"] == state, $"Job {jobId}: {job.ToJsonString()}");
        return job;
    }
}
