using System.Diagnostics;
using System.Net;
using Crm.Jobs.Webhooks;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Crm.Tests.Webhooks;

// In Development (plain http on loopback allowed): what the sender does with a receiver's answer.
public class WebhookSenderTests(WebhookSenderTests.Factory factory) : IClassFixture<WebhookSenderTests.Factory>
{
    public sealed class Factory : WebhookCrmApiFactory
    {
        protected override IEnumerable<(string Key, string Value)> Settings => [("Crm:Webhooks:Timeout", "00:00:01")];
    }

    private readonly HttpClient _client = factory.CreateClient();

    private async Task<string> FirstErrorAsync(WebhookReceiver receiver)
    {
        var subscription = await _client.SubscribeAsync(receiver, "*");
        Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync($"/api/webhooks/{subscription.Id}/test", null)).StatusCode);
        var deliveries = await Waiting.UntilAsync(() => _client.DeliveriesAsync(subscription.Id), d => d.Count > 0, "the first attempt");
        // Deleted before the retry comes due: one attempt is what each test looks at.
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
        Assert.Equal("failed", (string?)deliveries[0]!["state"]);
        return (string)deliveries[0]!["error"]!;
    }

    [Fact]
    public async Task RedirectsAreNotFollowed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = (_, context) =>
        {
            context.Response.Headers.Location = "/elsewhere";
            return Task.FromResult(StatusCodes.Status307TemporaryRedirect);
        };
        var error = await FirstErrorAsync(receiver);
        Assert.Equal("HTTP 307: redirects are not followed (Location: /elsewhere)", error);
        Assert.Equal(["/hook"], receiver.Received.Select(r => r.Path));
    }

    [Fact]
    public async Task AtMost4KbOfAnAnswerIsRead()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = async (_, context) =>
        {
            context.Response.StatusCode = 500;
            // 1 MB: the sender stops reading after 4 KB and closes the connection.
            var chunk = new string('x', 64 * 1024);
            try
            {
                for (var i = 0; i < 16; i++)
                    await context.Response.WriteAsync(chunk, context.RequestAborted);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
            }
            return 500;
        };
        var error = await FirstErrorAsync(receiver);
        Assert.StartsWith("HTTP 500: xxxx", error);
        // 4 KB read, and the stored error is cut to its column's 1000 characters.
        Assert.Equal(1000, error.Length);
    }

    [Fact]
    public async Task AReceiverThatDoesNotAnswerTimesOut()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer = async (_, context) =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
            return 200;
        };
        Assert.Equal("No answer within 1 s", await FirstErrorAsync(receiver));
    }

    // An answer that keeps coming is not read: the delivery is recorded at once and the
    // connection closed, instead of the handler reading on (by default up to 1 MB for 2 s)
    // to reuse it.
    [Fact]
    public async Task AnAnswerThatKeepsComingIsLeftUnreadAndItsConnectionClosed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var closedAfter = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.Answer = async (_, context) =>
        {
            context.Response.StatusCode = 200;
            var sending = Stopwatch.StartNew();
            try
            {
                // 1 KB every 20 ms for up to a minute, until the sender hangs up.
                while (sending.Elapsed < TimeSpan.FromMinutes(1))
                {
                    await context.Response.WriteAsync(new string('x', 1024), context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                    await Task.Delay(20, context.RequestAborted);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
            }
            closedAfter.TrySetResult(sending.Elapsed);
            return 200;
        };
        var subscription = await _client.SubscribeAsync(receiver, "*");
        Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync($"/api/webhooks/{subscription.Id}/test", null)).StatusCode);

        var deliveries = await Waiting.UntilAsync(() => _client.DeliveriesAsync(subscription.Id), d => d.Count > 0, "the attempt");
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
        Assert.Equal("delivered", (string?)deliveries[0]!["state"]);
        Assert.Equal(200, (int?)deliveries[0]!["responseStatus"]);
        var closed = await closedAfter.Task.WaitAsync(Waiting.Deadline);
        Assert.True(closed < TimeSpan.FromSeconds(1.5), $"the connection was closed after {closed}");
    }

    // HTTP/1.1 only: HTTP/3 runs over QUIC, past the connect-time address check.
    [Fact]
    public async Task RequestsAreHttp11AndNothingElse()
    {
        using var request = WebhookSender.Request("https://hooks.example.com/crm", "{}");
        Assert.Equal(HttpVersion.Version11, request.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionExact, request.VersionPolicy);

        await using var receiver = await WebhookReceiver.StartAsync();
        var protocol = "";
        receiver.Answer = (_, context) =>
        {
            protocol = context.Request.Protocol;
            return Task.FromResult(204);
        };
        var subscription = await _client.SubscribeAsync(receiver, "*");
        var test = await (await _client.PostAsync($"/api/webhooks/{subscription.Id}/test", null)).ReadJsonAsync();
        await _client.JobAsync((string)test["jobId"]!);
        await _client.DeleteAsync($"/api/webhooks/{subscription.Id}");
        Assert.Equal("HTTP/1.1", protocol);
    }
}
