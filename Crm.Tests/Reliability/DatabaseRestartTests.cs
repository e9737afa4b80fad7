using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Crm.Tests.Reliability;

// PostgreSQL restarted (fast stop, start) under a running app whose pools are full of
// connections to the old server: nothing that arrives after the server is back may fail on
// one of them, neither a request nor a job (docs/RELIABILITY.md#a-database-restart).
public sealed class DatabaseRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    private PrivateServerFactory _app = null!;

    public async Task InitializeAsync() => _app = await PrivateServerFactory.StartAsync();

    public async Task DisposeAsync()
    {
        if (_app is not null)
            await ((IAsyncLifetime)_app).DisposeAsync();
    }

    [Fact]
    public async Task AfterARestartEveryRequestAndJobSucceedsOnTheFirstTry()
    {
        var client = _app.CreateClient();
        await Waiting.UntilAsync(() => client.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK,
            "readiness before the restart", Deadline);

        // Fill both pools: fifty racing order writes (the requests' pool) and the customer
        // syncs and imports they start (the jobs' pool), all finished, so every connection
        // is idle in its pool when the server goes away.
        var phones = Enumerable.Range(0, 50).Select(_ => TestPhones.New()).ToArray();
        var written = await Task.WhenAll(phones.Select(phone => PostOrderAsync(client, phone)));
        var imports = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ImportAsync(client, TestPhones.New())));
        foreach (var job in written.Concat(imports))
            await client.JobAsync(job);
        var customerIds = new List<long>();
        foreach (var phone in phones.Take(10))
            customerIds.Add((long)(await client.CustomerByPhoneAsync(phone))!["id"]!);

        await _app.Postgres.StopAsync();
        await _app.Postgres.StartAgainAsync();

        // Two hundred requests of every kind, eight at a time, starting the moment the server
        // accepts connections again.
        var requests = Enumerable.Range(0, 200).Select(i => Request(i, phones, customerIds)).ToArray();
        var failures = new List<string>();
        var jobs = new List<string>();
        using var gate = new SemaphoreSlim(8);
        await Task.WhenAll(requests.Select(async request =>
        {
            await gate.WaitAsync();
            try
            {
                var (method, path, content) = request;
                var response = await client.SendAsync(new HttpRequestMessage(method, path) { Content = content });
                var body = await response.Content.ReadAsStringAsync();
                lock (failures)
                {
                    if (!response.IsSuccessStatusCode)
                        failures.Add($"{method} {path} → {(int)response.StatusCode} {body}");
                    else if (JsonNode.Parse(body) is JsonObject answer &&
                             (answer["syncJobId"] ?? answer["jobId"]) is JsonValue job)
                        jobs.Add((string)job!);
                }
            }
            finally
            {
                gate.Release();
            }
        }));
        output.WriteLine($"after the restart: {requests.Length - failures.Count} of {requests.Length} requests succeeded, {jobs.Count} jobs started");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));

        // The jobs those requests started ran on the jobs' pool, which was full of connections to
        // the old server too: each succeeded without a retry.
        foreach (var job in jobs.Distinct())
        {
            var done = await client.JobAsync(job);
            Assert.True((int)done["retryCount"]! == 0, $"job {job} needed a retry: {done.ToJsonString()}");
        }
    }

    // A mix of the API's reads, writes, imports and job triggers, by the request's number.
    private static (HttpMethod, string, HttpContent?) Request(int i, string[] phones, List<long> customerIds)
    {
        var id = customerIds[i % customerIds.Count];
        var phone = Uri.EscapeDataString(phones[i % phones.Length]);
        return (i % 10) switch
        {
            0 => (HttpMethod.Get, "/api/customers", null),
            1 => (HttpMethod.Get, $"/api/customers/{id}", null),
            2 => (HttpMethod.Post, "/api/orders", JsonContent.Create(Order(phones[i % phones.Length]))),
            3 => (HttpMethod.Post, "/api/orders/import", Ndjson(TestPhones.New())),
            4 => (HttpMethod.Get, $"/api/orders?phone={phone}", null),
            5 => (HttpMethod.Post, $"/api/customers/{id}/update-stats", null),
            6 => (HttpMethod.Get, $"/api/customers/{id}/timeline", null),
            7 => (HttpMethod.Get, "/api/sync/runs", null),
            8 => (HttpMethod.Get, "/api/categories", null),
            _ => (HttpMethod.Get, $"/api/customers/{id}/orders", null),
        };
    }

    private static object Order(string phone) =>
        new { customerName = "Клиент Рестарта", customerPhone = phone, totalAmount = 700m, status = "completed" };

    private static StringContent Ndjson(string phone) => new(
        $$"""{"customerName":"Импорт Рестарта","customerPhone":"{{phone}}","totalAmount":100,"status":"completed"}""" + "\n" +
        $$"""{"customerName":"Импорт Рестарта","customerPhone":"{{phone}}","totalAmount":200,"status":"new"}""",
        Encoding.UTF8, "application/x-ndjson");

    private static async Task<string> PostOrderAsync(HttpClient client, string phone)
    {
        var response = await client.PostAsJsonAsync("/api/orders", Order(phone));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (string)(await response.ReadJsonAsync())["syncJobId"]!;
    }

    private static async Task<string> ImportAsync(HttpClient client, string phone)
    {
        var response = await client.PostAsync("/api/orders/import", Ndjson(phone));
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (string)(await response.ReadJsonAsync())["jobId"]!;
    }
}
