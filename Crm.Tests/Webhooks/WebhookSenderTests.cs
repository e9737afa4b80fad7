using System.Net;
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
}
