using System.Diagnostics;
using Crm.Jobs;
using Crm.Jobs.Hosting;
using Hangfire;
using Hangfire.PostgreSql;
using Npgsql;

namespace Crm.Bench.Http;

// The job the "one Hangfire job per order write" peer would run, minus the work: what
// Hangfire itself costs per job.
public static class NoopJob
{
    public static void Run()
    {
    }
}

public sealed partial class HttpBench
{
    private const string NoopQueue = "bench_noop";

    // Hangfire's raw throughput with the app's storage settings, in this process: the
    // same PostgreSQL, schema `hangfire`, CrmJobsExtensions.StorageOptions, the app's
    // default worker count, on a queue of its own that the running app does not serve.
    private async Task HangfireNoopAsync()
    {
        var jobsOptions = new JobsOptions();
        var storageOptions = CrmJobsExtensions.StorageOptions(jobsOptions, AppRole.All);
        Section($"Hangfire raw throughput: {options.NoopJobs:N0} no-op jobs, {jobsOptions.WorkerCount} workers, " +
            $"{options.BurstClients} concurrent enqueuers, long polling {(storageOptions.EnableLongPolling ? "on" : "off")}, " +
            $"queue poll {storageOptions.QueuePollInterval.TotalSeconds:0.#} s");
        await WaitIdleAsync("the earlier phases", TimeSpan.FromMinutes(3));

        GlobalConfiguration.Configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings();
        var storage = new PostgreSqlStorage(new DataSourceConnectionFactory(db.DataSource), storageOptions);
        var client = new BackgroundJobClient(storage);
        BackgroundJobServer StartServer() => new(new BackgroundJobServerOptions
        {
            ServerName = "bench-noop",
            Queues = [NoopQueue],
            WorkerCount = jobsOptions.WorkerCount,
            SchedulePollingInterval = jobsOptions.SchedulePollingInterval,
        }, storage);

        // Enqueue alone (no server runs the queue), then drain the full queue: how fast
        // Hangfire itself turns jobs over, as "one job per order write" would need it to.
        var before = await db.MaxJobIdAsync();
        var enqueueClock = Stopwatch.StartNew();
        await EnqueueNoopsAsync(client);
        var enqueueRate = options.NoopJobs / enqueueClock.Elapsed.TotalSeconds;
        double drainSeconds;
        using (StartServer())
        {
            await WaitSucceededAsync(before, options.NoopJobs);
            // From the first job's start to the last one's success, as Hangfire recorded them.
            drainSeconds = await db.ScalarAsync<double>("""
                SELECT extract(epoch FROM max(createdat) - min(createdat))::float8 FROM hangfire.state
                WHERE jobid > @after AND name IN ('Processing', 'Succeeded')
                """, ("after", before));
        }
        var drainRate = options.NoopJobs / drainSeconds;
        Console.WriteLine($"  enqueue ({options.BurstClients} threads, no server running): {enqueueRate:N0} jobs/s; " +
            $"drain of the full queue: {drainSeconds:0.00} s → {drainRate:N0} no-op jobs/s");

        var naiveSeconds = 10_000 / drainRate;
        Console.WriteLine($"  one job per order write: 10 000 writes would need {naiveSeconds:0.0} s of Hangfire's own work");
        report.Add("Hangfire no-op jobs/s (drain of a full queue)", drainRate, "jobs/s");
        report.Add($"Hangfire no-op enqueue ({options.BurstClients} threads)", enqueueRate, "jobs/s");
        report.Add("one job per write: 10 000 writes would need", naiveSeconds, "s");
        report.Details["hangfireNoop"] = new
        {
            jobs = options.NoopJobs,
            workers = jobsOptions.WorkerCount,
            enqueuers = options.BurstClients,
            longPolling = storageOptions.EnableLongPolling,
            queuePollIntervalSeconds = storageOptions.QueuePollInterval.TotalSeconds,
            enqueueJobsPerSecond = enqueueRate,
            drainSeconds,
            drainJobsPerSecond = drainRate,
            tenThousandWritesSeconds = naiveSeconds,
        };
    }

    private async Task EnqueueNoopsAsync(BackgroundJobClient client)
    {
        var next = -1;
        // Hangfire's client is synchronous: each enqueuer is a thread of its own.
        await Task.WhenAll(Enumerable.Range(0, options.BurstClients).Select(_ => Task.Run(() =>
        {
            while (Interlocked.Increment(ref next) < options.NoopJobs)
                client.Enqueue(NoopQueue, () => NoopJob.Run());
        })));
    }

    private async Task WaitSucceededAsync(long afterJobId, int count)
    {
        var deadline = Stopwatch.StartNew();
        while (await db.ScalarAsync<long>(
                   "SELECT count(*) FROM hangfire.job WHERE id > @after AND statename = 'Succeeded'", ("after", afterJobId)) < count)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(10))
                throw new TimeoutException("no-op jobs not all succeeded after 10 minutes");
            await Task.Delay(20);
        }
    }

    // Like the app's: Hangfire's connections come from the same pool as everything else.
    private sealed class DataSourceConnectionFactory(NpgsqlDataSource dataSource) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => dataSource.CreateConnection();
    }
}
