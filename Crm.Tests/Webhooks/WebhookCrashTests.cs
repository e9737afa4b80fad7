using System.Net;
using System.Net.Http.Json;
using Crm.Tests.Infrastructure;
using Crm.Tests.Reliability;
using Microsoft.AspNetCore.Hosting;
using Xunit.Abstractions;

namespace Crm.Tests.Webhooks;

// kill -9 of the worker process while its delivery waits for the receiver's answer: the next
// worker picks the job up after its invisibility timeout and sends the same message again
// (same webhook-id, same body) before anything newer; no event is lost, and after dedupe on
// webhook-id each arrives once, in order.
public sealed class WebhookCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly (string, string)[] WorkerSettings =
    [
        // Plain http to a loopback receiver is allowed in Development only.
        ("ASPNETCORE_ENVIRONMENT", "Development"),
        ("Crm__Jobs__InvisibilityTimeout", "00:00:15"),
        ("Crm__Webhooks__PollInterval", "00:00:01"),
        ("Crm__Webhooks__MaxEventsPerMessage", "10"),
        ("Crm__Sync__Cron", ""),
        ("Crm__Sync__PendingCron", ""),
        ("Crm__Sync__RunPruneCron", ""),
        ("Crm__Categories__RecalculateCron", "0 0 31 2 *"),
    ];

    private static readonly TimeSpan ProcessDeadline = TimeSpan.FromMinutes(3);

    private string _database = "";

    // An `api` host: enqueues and answers, runs no jobs (the worker processes do).
    private sealed class ApiHost(string database) : CrmApiFactory
    {
        public override string ConnectionString => TestDatabase.ConnectionStringFor(database);

        protected override string EnvironmentName => "Development";

        public override bool UsesFakeClock => false;

        public override Task InitializeAsync() => Task.CompletedTask;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:Role", "api");
        }

        protected override Task DropDatabaseAsync() => Task.CompletedTask;
    }

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync();

    public async Task DisposeAsync()
    {
        if (_database.Length > 0)
            await TestDatabase.DropAsync(_database);
    }

    [Fact]
    public async Task AWorkerKilledDuringADeliveryLosesNoEvent()
    {
        await using var api = new ApiHost(_database);
        var client = api.CreateClient();
        await using var receiver = await WebhookReceiver.StartAsync();
        var firstArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = 0;
        // The first request is held unanswered: the delivery is in flight when the worker dies.
        receiver.Answer = async (_, context) =>
        {
            if (Interlocked.Increment(ref held) == 1)
            {
                firstArrived.SetResult();
                await release.Task;
            }
            return 200;
        };
        await client.SubscribeAsync(receiver, "customer.created");

        var phones = new List<string>();
        async Task CreateCustomersAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var phone = TestPhones.New();
                var created = await client.PostAsJsonAsync("/api/customers", new { name = $"Клиент {phones.Count}", phone });
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                phones.Add(phone);
            }
        }
        await CreateCustomersAsync(25);

        await using var first = WorkerProcess.Start(api.ConnectionString, WorkerSettings);
        await first.WaitReadyAsync(ProcessDeadline);
        await firstArrived.Task.WaitAsync(ProcessDeadline);
        await first.KillAsync();
        output.WriteLine($"killed worker process {first.Id} with SIGKILL during the delivery of {receiver.Received[0].WebhookId}");
        release.SetResult();

        // Events written while no worker runs wait in the outbox.
        await CreateCustomersAsync(15);

        await using var second = WorkerProcess.Start(api.ConnectionString, WorkerSettings);
        await second.WaitReadyAsync(ProcessDeadline);
        var events = await receiver.EventsAsync(e => e.Count >= phones.Count, $"{phones.Count} events", ProcessDeadline);

        // Every event once; customers in different lanes have no order between them.
        Assert.Equal(phones.Order(), events.Select(e => (string)e["data"]!["phone"]!).Order());
        // The message cut short goes out again as it was: its lane's job is the killed worker's
        // until the invisibility timeout, so the other lanes may well be done before it.
        var interrupted = receiver.Received[0];
        var again = await Waiting.UntilAsync(
            () => Task.FromResult(receiver.Received.Skip(1).Where(r => r.WebhookId == interrupted.WebhookId).ToList()),
            sent => sent.Count > 0, "the interrupted message to be sent again", ProcessDeadline);
        Assert.All(again, r => Assert.Equal(interrupted.Body, r.Body));
        Assert.All(receiver.Received, r => Assert.NotEmpty(r.VerifiedBy));
    }
}
