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
                throw new TimeoutException($"Gave up waiting for {what}; last seen: {value}");
            await Task.Delay(50);
        }
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
