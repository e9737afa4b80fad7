using System.Diagnostics;
using Hangfire.Common;
using Hangfire.Server;
using Microsoft.Extensions.Logging;

namespace Crm.Jobs.Hosting;

// Around every job this host runs: a logging scope carrying the job id (so every log line
// of the job says which one), and the job's duration and failures as metrics.
internal sealed class JobObservation(CrmMetrics metrics, ILogger<JobObservation> logger) : IServerFilter
{
    private const string StartedKey = "crm:started";
    private const string ScopeKey = "crm:scope";

    public void OnPerforming(PerformingContext context)
    {
        context.Items[StartedKey] = Stopwatch.GetTimestamp();
        context.Items[ScopeKey] = logger.BeginScope(new Dictionary<string, object>
        {
            ["JobId"] = context.BackgroundJob.Id,
            ["Job"] = Name(context.BackgroundJob.Job),
        });
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(StartedKey, out var started))
        {
            metrics.JobFinished(Name(context.BackgroundJob.Job), Stopwatch.GetElapsedTime((long)started),
                failed: context.Exception is not null && !context.ExceptionHandled);
        }
        if (context.Items.TryGetValue(ScopeKey, out var scope))
            (scope as IDisposable)?.Dispose();
    }

    private static string Name(Job job) => $"{job.Type.Name}.{job.Method.Name}";
}
