using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Options;
using StandardWebhooks;

namespace Crm.Jobs.Webhooks;

// Sends one signed message. One HttpClient for the process: its handler connects only to
// addresses WebhookUrlPolicy allows (checked at every connection, so a DNS change after
// registration cannot point a subscription inside), speaks HTTP/1.1 only (HTTP/3 runs over
// QUIC, which ConnectCallback never sees), follows no redirect, uses no proxy (the address
// check must see the receiver, not a proxy), reads at most 4 KB of an answer and closes the
// connection rather than read the rest of it.
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _client;
    private readonly WebhookUrlPolicy _policy;
    private readonly IOptions<WebhookOptions> _options;
    private readonly TimeProvider _clock;

    public WebhookSender(WebhookUrlPolicy policy, IOptions<WebhookOptions> options, TimeProvider clock)
    {
        _policy = policy;
        _options = options;
        _clock = clock;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            // New connections re-resolve the host, and with it re-run the address check.
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = ConnectAsync,
            // An answer left unread closes its connection: by default the handler would go on
            // reading up to 1 MB of it (for 2 s) to reuse the connection.
            MaxResponseDrainSize = 0,
        };
        _client = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    // HTTP/1.1 and nothing else: no upgrade to a version the connect-time check does not see.
    public static HttpRequestMessage Request(string url, string body) => new(HttpMethod.Post, url)
    {
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Content = new StringContent(body, Encoding.UTF8, "application/json"),
    };

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var addresses = await _policy.AllowedAddressesAsync(context.DnsEndPoint.Host, ct);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // Signs with every given secret (the newest first: a receiver that checks only the first
    // signature of the header still verifies with the current secret) and posts the body.
    // Never throws for the receiver's failures: they come back as the response's error.
    public async Task<SendResult> SendAsync(
        string url, string messageId, string body, IReadOnlyList<string> secrets, DateTimeOffset timestamp, CancellationToken ct)
    {
        if (_policy.Check(url) is { } refused)
            return new SendResult(null, refused);

        using var request = Request(url, body);
        request.Headers.Add("webhook-id", messageId);
        request.Headers.Add("webhook-timestamp", timestamp.ToUnixTimeSeconds().ToString());
        request.Headers.Add("webhook-signature",
            string.Join(' ', secrets.Select(secret => new StandardWebhook(secret).Sign(messageId, timestamp, body))));

        var timeout = _options.Value.Timeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300)
                return new SendResult(status, null);
            var answer = await ReadAtMostAsync(response, WebhookOptions.MaxResponseBytes, deadline.Token);
            var retryAfter = RetryAfter(response);
            var error = status is >= 300 and < 400
                ? $"HTTP {status}: redirects are not followed (Location: {response.Headers.Location})"
                : $"HTTP {status}" + (retryAfter is { } wait ? $" (Retry-After: {wait.TotalSeconds:0} s)" : "")
                  + (answer.Length > 0 ? ": " + answer : "");
            return new SendResult(status, error) { RetryAfter = retryAfter };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new SendResult(null, $"No answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            // The refusal of an address comes wrapped by the handler; say it plainly.
            var refusal = FindRefusal(e);
            return new SendResult(null, refusal?.Message ?? e.Message);
        }
    }

    // A 429 or 503's Retry-After (seconds or an HTTP date), within zero and the longest retry
    // delay: a receiver cannot park its deliveries for longer.
    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
            return null;
        var header = response.Headers.RetryAfter;
        var wait = header?.Delta ?? header?.Date - _clock.GetUtcNow();
        return wait is null ? null : TimeSpan.FromSeconds(Math.Clamp(Math.Ceiling(wait.Value.TotalSeconds), 0, WebhookRetryAttribute.MaxDelay.TotalSeconds));
    }

    private static WebhookRefusedException? FindRefusal(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is WebhookRefusedException refused)
                return refused;
        return null;
    }

    private static async Task<string> ReadAtMostAsync(HttpResponseMessage response, int limit, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[limit];
        var read = 0;
        while (read < limit)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read, limit - read), ct);
            if (n == 0)
                break;
            read += n;
        }
        // A cut in the middle of a character becomes U+FFFD, which is fine for an error text.
        return Encoding.UTF8.GetString(buffer, 0, read).Trim();
    }

    public void Dispose() => _client.Dispose();
}
