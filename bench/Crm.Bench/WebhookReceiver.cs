using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace Crm.Bench;

// bench/webhooks.sh's receiver: Kestrel on 127.0.0.1 (a free port) in the bench's process,
// as a shop's receiver would be. Every request is verified with the StandardWebhooks library
// (all of them, not a sample) before it is answered 204; a request that does not verify is
// answered 401 (the service then redelivers it) and counted. Events are counted once per
// webhook-id (a redelivery repeats it, and receivers dedupe on it) and checked once per
// event id, in the order they arrive.
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly object _gate = new();
    private Round _round = new(0);

    // The subscription's signing secret (whsec_…), once it exists.
    public string? Secret { get; set; }

    public string Url { get; }

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
            context.Response.StatusCode = receiver!.Receive(body, context.Request.Headers);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver = new WebhookReceiver(app, address.TrimEnd('/') + "/crm");
        return receiver;
    }

    // A new round: what arrives from now on is counted against `expected` distinct events.
    public Round Begin(int expected)
    {
        lock (_gate)
            return _round = new Round(expected);
    }

    private int Receive(string body, IHeaderDictionary headers)
    {
        var verified = false;
        if (Secret is { } secret)
        {
            try
            {
                new StandardWebhook(secret).Verify(body, headers);
                verified = true;
            }
            catch (WebhookVerificationException)
            {
            }
        }
        var messageId = headers["webhook-id"].ToString();
        lock (_gate)
        {
            var round = _round;
            round.Requests++;
            if (!verified)
            {
                round.Unverified++;
                return StatusCodes.Status401Unauthorized;
            }
            round.Verified++;
            if (!round.MessageIds.Add(messageId))
            {
                round.RepeatedMessages++;
                return StatusCodes.Status204NoContent;
            }
            using var document = JsonDocument.Parse(body);
            foreach (var e in document.RootElement.GetProperty("events").EnumerateArray())
            {
                var id = long.Parse(e.GetProperty("id").GetString()!.AsSpan(4)); // evt_<id>
                if (!round.EventIds.Add(id))
                {
                    round.RepeatedEvents++;
                    continue;
                }
                if (id <= round.LastEventId)
                    round.OutOfOrder++;
                round.LastEventId = id;
                if (e.GetProperty("type").GetString() != "customer.category_changed")
                    round.OtherTypes++;
                var data = e.GetProperty("data");
                round.CustomerIds.Add(data.GetProperty("customerId").GetInt64());
                if (data.GetProperty("to").GetString() == "inactive")
                    round.ToInactive++;
                round.SumOfIds += id;
            }
            var now = Stopwatch.GetTimestamp();
            round.FirstAt ??= now;
            round.LastAt = now;
            if (round.EventIds.Count >= round.Expected)
                round.All.TrySetResult(now);
            return StatusCodes.Status204NoContent;
        }
    }

    // What one round received. Read its fields once All has completed (or the round is over).
    public sealed class Round(int expected)
    {
        public int Expected { get; } = expected;
        // Completes with the Stopwatch timestamp at which the last expected event was in.
        public TaskCompletionSource<long> All { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Requests { get; set; }
        public int Verified { get; set; }
        public int Unverified { get; set; }
        public int RepeatedMessages { get; set; }
        public int RepeatedEvents { get; set; }
        public int OutOfOrder { get; set; }
        public int OtherTypes { get; set; }
        public int ToInactive { get; set; }
        public long LastEventId { get; set; }
        public long SumOfIds { get; set; }
        public long? FirstAt { get; set; }
        public long LastAt { get; set; }
        public HashSet<string> MessageIds { get; } = [];
        public HashSet<long> EventIds { get; } = [];
        public HashSet<long> CustomerIds { get; } = [];
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
