using System.Net;
using Crm.Jobs.Webhooks;
using Crm.Tests.Infrastructure;
using Hangfire;
using Hangfire.Common;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Crm.Tests.Webhooks;

// Receivers that say stop (Standard Webhooks): 410 Gone disables the subscription at once; a
// 429 or 503 with Retry-After puts the next attempt off by it; retries come with jitter.
public class WebhookStopTests(WebhookCrmApiFactory factory) : IClassFixture<WebhookCrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A410GoneDisablesTheSubscriptionAtOnce()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = (_, _) => Task.FromResult(StatusCodes.Status410Gone);
        var subscription = await _client.SubscribeAsync(receiver, "*");

        var test = await (await _client.PostAsync($"/api/webhooks/{subscription.Id}/test", null)).ReadJsonAsync();
        // The job ends well: the receiver said stop, nothing is retried.
        var job = await _client.JobAsync((string)test["jobId"]!);

        var hook = await (await _client.GetAsync($"/api/webhooks/{subscription.Id}")).ReadJsonAsync();
        Assert.False((bool)hook["enabled"]!);
        Assert.StartsWith("The receiver answered 410 Gone at ", (string?)hook["disabledReason"]);
        var deliveries = await _client.DeliveriesAsync(subscription.Id);
        var attempt = Assert.Single(deliveries);
        Assert.Equal("failed", (string?)attempt!["state"]);
        Assert.Equal(410, (int?)attempt["responseStatus"]);
        Assert.Single(receiver.Received);
        // Its message waits, undelivered, as any disabled subscription's does.
        Assert.Equal(1, (long)hook["pendingEvents"]!);
        var again = await _client.PostAsync($"/api/webhooks/{subscription.Id}/test", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.StartsWith("The receiver answered 410 Gone", (string?)(await again.ReadJsonAsync())["detail"]);
        Assert.Single(receiver.Received);
        Assert.Contains("\"gone\"", job.ToJsonString());
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
    }

    // The first retry's delay as scheduled, in seconds (the first retry is 5 s ± 20% without
    // a Retry-After; the longest retry delay is an hour). Hangfire stores both times to the
    // millisecond, each rounded on its own: an exact delay may read a millisecond short or long.
    [Theory]
    [InlineData(429, "120", 119.99, 120.01)]
    [InlineData(503, "120", 119.99, 120.01)]
    [InlineData(503, "in 300 s", 295, 301)]
    [InlineData(429, "86400", 3599.99, 3600.01)]
    [InlineData(503, "1", 4, 6)]
    [InlineData(500, "120", 4, 6)]
    [InlineData(503, "soon", 4, 6)]
    public async Task RetryAfterPutsTheNextAttemptOff(int status, string retryAfter, double atLeast, double atMost)
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = (_, context) =>
        {
            context.Response.Headers.RetryAfter = retryAfter == "in 300 s"
                ? DateTimeOffset.UtcNow.AddSeconds(300).ToString("R")
                : retryAfter;
            return Task.FromResult(status);
        };
        var subscription = await _client.SubscribeAsync(receiver, "*");
        var test = await (await _client.PostAsync($"/api/webhooks/{subscription.Id}/test", null)).ReadJsonAsync();

        var jobId = (string)test["jobId"]!;
        var delay = await FirstRetryDelayAsync(jobId);
        if (atLeast >= 100)
        {
            // Listed under Retries on the dashboard, as Hangfire's own retries are.
            using var storage = factory.Services.GetRequiredService<JobStorage>().GetConnection();
            Assert.Contains(jobId, storage.GetAllItemsFromSet("retries"));
        }
        var deliveries = await _client.DeliveriesAsync(subscription.Id);
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");

        Assert.InRange(delay.TotalSeconds, atLeast, atMost);
        Assert.StartsWith($"HTTP {status}", (string?)deliveries[^1]!["error"]);
    }

    private async Task<TimeSpan> FirstRetryDelayAsync(string jobId)
    {
        var monitoring = factory.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        var scheduled = await Waiting.UntilAsync(
            () => Task.FromResult(monitoring.JobDetails(jobId)?.History
                .FirstOrDefault(h => h.StateName == "Scheduled" && h.Reason?.StartsWith("Retry attempt 1 of") == true)),
            h => h is not null, $"job {jobId}'s first retry");
        return JobHelper.DeserializeDateTime(scheduled!.Data["EnqueueAt"]) - JobHelper.DeserializeDateTime(scheduled.Data["ScheduledAt"]);
    }

    [Fact]
    public void RetryDelaysGetJitterOfAFifthEitherWay()
    {
        Assert.Equal(TimeSpan.FromSeconds(4), WebhookRetryAttribute.Delay(1, null, 0));
        Assert.Equal(TimeSpan.FromSeconds(5), WebhookRetryAttribute.Delay(1, null, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(6), WebhookRetryAttribute.Delay(1, null, 1));
        Assert.Equal(TimeSpan.FromSeconds(2880), WebhookRetryAttribute.Delay(7, null, 0));
        Assert.Equal(TimeSpan.FromSeconds(4320), WebhookRetryAttribute.Delay(33, null, 1));
        var delays = Enumerable.Range(0, 200).Select(_ => WebhookRetryAttribute.Delay(4, null, Random.Shared.NextDouble())).ToList();
        Assert.All(delays, d => Assert.InRange(d.TotalSeconds, 240, 360));
        Assert.True(delays.Distinct().Count() > 100, "the delays should differ");

        // A Retry-After is a floor, never beyond the longest delay.
        Assert.Equal(TimeSpan.FromSeconds(120), WebhookRetryAttribute.Delay(1, TimeSpan.FromSeconds(120), 1));
        Assert.Equal(TimeSpan.FromSeconds(900), WebhookRetryAttribute.Delay(5, TimeSpan.FromSeconds(10), 0.5));
        Assert.Equal(TimeSpan.FromHours(1), WebhookRetryAttribute.Delay(1, TimeSpan.FromDays(2), 0.5));
    }
}
