using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace Crm.Tests.Webhooks;

// A real HTTP receiver: Kestrel on a loopback port, verifying every request with the
// StandardWebhooks library, as a receiver would.
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();

    // The secrets a request may be signed with (set once the subscription exists).
    public List<string> Secrets { get; } = [];

    // How to answer a request (default 200); may wait (a slow receiver).
    public Func<ReceivedWebhook, HttpContext, Task<int>> Answer { get; set; } = (_, _) => Task.FromResult(200);

    public string Url { get; }

    public IReadOnlyList<ReceivedWebhook> Received => [.. _received];

    private WebhookReceiver(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers;
            var received = new ReceivedWebhook(context.Request.Path, headers["webhook-id"].ToString(), headers["webhook-timestamp"].ToString(),
                headers["webhook-signature"].ToString(), body, receiver!.VerifiedBy(body, headers));
            receiver._received.Enqueue(received);
            var status = await receiver.Answer(received, context);
            if (!context.Response.HasStarted)
                context.Response.StatusCode = status;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver = new WebhookReceiver(app, address.TrimEnd('/') + "/hook");
        return receiver;
    }

    // StandardWebhook.Verify checks only the first signature of a header that carries several
    // (StandardWebhooks 1.1.2), so each signature is verified on its own, as a receiver
    // holding the previous secret during a rotation must.
    private List<string> VerifiedBy(string body, IHeaderDictionary headers)
    {
        var verified = new List<string>();
        foreach (var secret in Secrets.ToArray())
        {
            foreach (var signature in headers["webhook-signature"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var one = new HeaderDictionary
                {
                    ["webhook-id"] = headers["webhook-id"],
                    ["webhook-timestamp"] = headers["webhook-timestamp"],
                    ["webhook-signature"] = signature,
                };
                try
                {
                    new StandardWebhook(secret).Verify(body, one);
                    verified.Add(secret);
                    break;
                }
                catch (WebhookVerificationException)
                {
                }
            }
        }
        return verified;
    }

    // Every event received, in the order received, each once (a redelivery repeats a
    // webhook-id, and receivers dedupe on it).
    public List<JsonNode> DistinctEvents()
    {
        var seen = new HashSet<string>();
        return [.. Received.Where(r => seen.Add(r.WebhookId)).SelectMany(r => r.Events.Select(e => e!))];
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
