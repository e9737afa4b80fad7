using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Hosting;

// Works around a stall in Hangfire.PostgreSql's long polling (seen with 1.21.1): a worker
// whose fetch has just succeeded waits, before it hands the job over, for its LISTEN task
// to stop, and that task sometimes stops only when the next `NOTIFY new_job` arrives.
// Meanwhile the fetched job's sliding invisibility keeps every other worker off it, so
// with nothing new enqueued it waited for minutes (docs/BENCHMARKS.md). A NOTIFY every
// few seconds from each process with a job server bounds that wait; it costs one
// statement per interval, and each listening worker one look at the queue. Without long
// polling (role `all` by default, JobsOptions.EnableLongPolling) nobody listens: no nudge.
public sealed class ListenerNudge(NpgsqlDataSource dataSource, IOptions<JobsOptions> options, AppRole role, ILogger<ListenerNudge> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.LongPollingFor(role))
            return;
        var interval = options.Value.ListenerNudgeInterval;
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var command = dataSource.CreateCommand("NOTIFY new_job");
                await command.ExecuteNonQueryAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The database is away; the job servers report that themselves. Try again next tick.
                logger.LogWarning(e, "Could not nudge the job queue listeners; trying again in {Interval}", interval);
            }
        }
    }
}
