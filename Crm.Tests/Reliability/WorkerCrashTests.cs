using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace Crm.Tests.Reliability;

// kill -9 of a worker process in the middle of a full force sync over 300 000 orders: a new
// worker picks the job up once its invisibility timeout has passed, the run starts over in
// a fresh transaction, and the customers table ends identical to an uninterrupted run.
public sealed class WorkerCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Orders = 300_000;
    private const int Phones = 60_000;
    private const int StaleCustomers = 1_000;

    // The job of a killed worker is picked up after this; 30 s instead of the default minute
    // keeps the test short and still well above the keep-alive that live workers renew.
    private static readonly (string, string)[] WorkerSettings =
    [
        ("Crm__Jobs__InvisibilityTimeout", "00:00:30"),
        ("Crm__Sync__Cron", ""),
        ("Crm__Sync__PendingCron", ""),
        ("Crm__Sync__RunPruneCron", ""),
        ("Crm__Categories__RecalculateCron", "0 0 31 2 *"),
    ];

    private static readonly TimeSpan ProcessDeadline = TimeSpan.FromMinutes(3);

    private string _crashed = "";
    private string _reference = "";

    // An `api` host (enqueues and reports, runs no jobs) on a given database.
    private sealed class ApiHost(string database) : CrmApiFactory
    {
        public override string ConnectionString => TestDatabase.ConnectionStringFor(database);

        public override bool UsesFakeClock => false;

        public override Task InitializeAsync() => Task.CompletedTask;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:Role", "api");
            foreach (var (name, value) in WorkerSettings)
                builder.UseSetting(name.Replace("__", ":"), value);
        }

        protected override Task DropDatabaseAsync() => Task.CompletedTask;
    }

    public async Task InitializeAsync()
    {
        _crashed = await TestDatabase.CreateAsync();
        await ExecuteAsync(_crashed, $$"""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city, delivery_address,
                                total_amount, status, created_at, updated_at)
            SELECT CASE WHEN i % 17 = 0 THEN ''
                        ELSE (ARRAY['Иван','Мария','Пётр','Ольга','Анна','Сергей','Елена'])[1 + i % 7] || ' ' ||
                             (ARRAY['Иванов','Смирнова','Кузнецов','Попова','Соколов','Лебедева'])[1 + (i / 7) % 6] END,
                   CASE WHEN i % 101 = 0 THEN 'нет телефона' ELSE '8 (997) ' || lpad((i % {{Phones}})::text, 7, '0') END,
                   CASE WHEN i % 101 = 0 THEN NULL ELSE '+7997' || lpad((i % {{Phones}})::text, 7, '0') END,
                   CASE WHEN i % 5 = 0 THEN '' ELSE 'c' || (i % {{Phones}}) || '.' || (i % 3) || '@example.com' END,
                   (ARRAY['Москва','Казань','Пермь','Омск','Тула',''])[1 + (i / 3) % 6],
                   CASE WHEN i % 4 = 0 THEN '' ELSE 'ул. Ленина, ' || (i % 200) END,
                   round(((i::bigint * 7919) % 100000) / 100.0 + (i % 13) * 250, 2),
                   (ARRAY['new','processing','completed','completed','completed','cancelled'])[1 + (i * 31) % 6],
                   -- Whole days plus half a day back, so that no customer is near the 180-day
                   -- inactivity boundary while the test runs.
                   now() - make_interval(days => (i * 37) % 700, hours => 12, secs => i % 3000),
                   now()
            FROM generate_series(1, {{Orders}}) AS i;

            -- Customers that exist already: stale statistics and contact fields the force sync overwrites,
            -- and some without any order.
            INSERT INTO customers (name, phone, email, city, address, category, total_orders, total_spent, average_order,
                                   created_at, updated_at)
            SELECT 'Старое Имя ' || p, '+7997' || lpad(p::text, 7, '0'), 'old' || p || '@example.com', 'Старый город', '',
                   'vip', 99, 1, 1, now() - interval '1 year', now() - interval '1 year'
            FROM generate_series(1, {{StaleCustomers}}) AS p;
            INSERT INTO customers (name, phone, category, total_orders, total_spent, average_order, created_at, updated_at)
            SELECT 'Без заказов ' || p, '+7996' || lpad(p::text, 7, '0'), 'regular', 5, 500, 100, now(), now()
            FROM generate_series(1, 100) AS p;
            ANALYZE;
            """);
        // The reference starts from the same rows: cloned now, while nothing is connected.
        _reference = $"crm_test_{Guid.NewGuid():N}";
        await ExecuteAsync("postgres", $"CREATE DATABASE {_reference} TEMPLATE {_crashed}");
    }

    public async Task DisposeAsync()
    {
        foreach (var database in new[] { _crashed, _reference })
        {
            if (database.Length > 0)
                await TestDatabase.DropAsync(database);
        }
    }

    [Fact]
    public async Task AWorkerKilledMidSyncLeavesNothingHalfDoneAndTheNextWorkerFinishesTheJobIdentically()
    {
        // The uninterrupted run, in-process with the same engine and configuration.
        await using (var reference = new ApiHost(_reference))
        {
            await using var scope = reference.Services.CreateAsyncScope();
            var counts = await scope.ServiceProvider.GetRequiredService<SyncEngine>()
                .RunAsync(SyncMode.Force, new SyncScope.All(), jobId: null, CancellationToken.None);
            output.WriteLine($"reference force sync: {counts}");
        }

        await using var api = new ApiHost(_crashed);
        var client = api.CreateClient();
        await using var first = WorkerProcess.Start(api.ConnectionString, WorkerSettings);
        await first.WaitReadyAsync(ProcessDeadline);

        // This transaction holds one stale customer's row, so the sync, once it reaches its
        // UPDATE of existing customers, waits there: mid-run deterministically, with its
        // advisory lock held, its new customers inserted but not committed.
        var holder = new NpgsqlConnection(Unpooled(_crashed));
        await holder.OpenAsync();
        var rowLock = await holder.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand("SELECT id FROM customers WHERE phone = '+79970000001' FOR UPDATE", holder, rowLock))
            await take.ExecuteNonQueryAsync();

        var accepted = await client.PostAsJsonAsync("/api/sync", new { mode = "force" });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var jobId = (string)(await accepted.ReadJsonAsync())["jobId"]!;
        await Waiting.UntilAsync(() => RunStatusAsync(jobId), status => status == "running",
            "the sync to start its run", ProcessDeadline);
        await Waiting.UntilAsync(() => WaitsForTheHeldRowAsync(holder), probe => probe.Waits,
            "the sync to wait for the held row in its UPDATE of existing customers", ProcessDeadline);
        Assert.Equal("Processing", (string?)(await (await client.GetAsync($"/api/jobs/{jobId}")).ReadJsonAsync())["state"]);

        await first.KillAsync();
        var killed = Stopwatch.StartNew();
        output.WriteLine($"killed worker process {first.Id} with SIGKILL");

        // Nothing of the interrupted run is visible: its customers were never committed.
        Assert.Equal(StaleCustomers + 100L, await ScalarAsync<long>(_crashed, "SELECT count(*) FROM customers"));
        Assert.Equal("running", await RunStatusAsync(jobId));
        await rowLock.RollbackAsync();
        await holder.DisposeAsync();

        await using var second = WorkerProcess.Start(api.ConnectionString, WorkerSettings);
        await second.WaitReadyAsync(ProcessDeadline);
        var job = await Waiting.UntilAsync(
            async () => await (await client.GetAsync($"/api/jobs/{jobId}")).ReadJsonAsync(),
            j => (string?)j["state"] is "Succeeded" or "Failed" or "Deleted",
            $"job {jobId} to finish on the second worker", ProcessDeadline);
        var recovered = killed.Elapsed;
        Assert.True((string?)job["state"] == "Succeeded", $"{job.ToJsonString()}\n{second.Output}");
        output.WriteLine($"kill -9 → Succeeded on the new worker: {recovered.TotalSeconds:F1} s; result {job["result"]?.ToJsonString()}");

        var crashedRows = await CustomerRowsAsync(_crashed);
        var referenceRows = await CustomerRowsAsync(_reference);
        Assert.Equal(Phones + 100, referenceRows.Count);
        Assert.Equal(referenceRows.Count, crashedRows.Count);
        Assert.Equal(referenceRows.Count, (int)job["result"]!["totalCustomers"]!);
        var firstDifference = crashedRows.Zip(referenceRows).Select((pair, i) => (pair, i)).FirstOrDefault(x => x.pair.First != x.pair.Second);
        Assert.True(firstDifference.pair == default,
            $"row {firstDifference.i} differs:\n  after the crash: {firstDifference.pair.First}\n  uninterrupted:   {firstDifference.pair.Second}");
        output.WriteLine($"{crashedRows.Count} customers identical to the uninterrupted run");

        // The retried job, at its start, marked the killed attempt's run abandoned (its holder
        // session had ended); the retry recorded a run of its own.
        var runs = await ScalarAsync<string>(_crashed,
            $"SELECT string_agg(status, ', ' ORDER BY id) FROM sync_runs WHERE job_id = '{jobId}'");
        output.WriteLine($"sync_runs of job {jobId}: {runs}");
        Assert.Equal("abandoned, succeeded", runs);
    }

    private static string Unpooled(string database) =>
        new NpgsqlConnectionStringBuilder(TestDatabase.ConnectionStringFor(database)) { Pooling = false }.ConnectionString;

    private static async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task<string?> RunStatusAsync(string jobId)
    {
        await using var connection = new NpgsqlConnection(Unpooled(_crashed));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT status FROM sync_runs WHERE job_id = @job ORDER BY id LIMIT 1", connection);
        command.Parameters.AddWithValue("job", jobId);
        return (string?)await command.ExecuteScalarAsync();
    }

    // Whether another session waits for this connection's transaction (only a writer of the
    // held row can), with what every session of the database holds and waits for, for the
    // message if it never happens.
    private static async Task<(bool Waits, string Locks)> WaitsForTheHeldRowAsync(NpgsqlConnection holder)
    {
        await using var command = new NpgsqlCommand("""
            SELECT EXISTS (SELECT 1 FROM pg_locks w
                           JOIN pg_locks h ON h.locktype = 'transactionid' AND h.transactionid = w.transactionid AND h.pid = pg_backend_pid()
                           WHERE w.locktype = 'transactionid' AND NOT w.granted AND w.pid <> pg_backend_pid()),
                   (SELECT coalesce(string_agg(pid || ':' || locktype || ':' || coalesce(relation::regclass::text, transactionid::text, '') ||
                                               ':' || mode || ':' || granted, ', '), '')
                    FROM pg_locks WHERE pid <> pg_backend_pid() AND locktype IN ('transactionid', 'advisory', 'relation'))
            """, holder);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetBoolean(0), reader.GetString(1));
    }

    private static async Task<List<string>> CustomerRowsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(Unpooled(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT concat_ws(' | ', phone, name, email, city, address, category, total_orders, total_spent, average_order,
                             coalesce(to_char(last_order_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), 'never'))
            FROM customers ORDER BY phone
            """, connection) { CommandTimeout = 600 };
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add(reader.GetString(0));
        return rows;
    }
}
