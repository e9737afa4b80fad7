using Crm.Jobs.Ledger;
using Crm.Jobs.Webhooks;
using Hangfire;
using Hangfire.Storage;

namespace Crm.Api.JobStatus;

// Webhook and ledger jobs are admin business: a delivery's arguments and result lead to a
// subscription whose URL may carry a capability token (/api/webhooks is admin-only), a
// revert undoes a run. Their details (arguments, result, failure) are for admins on
// GET /api/jobs/{id} and on the dashboard's job page; other keys see that they exist.
public static class AdminOnlyJobs
{
    private static readonly Type[] Classes = [typeof(WebhookJobs), typeof(WebhookReplayJobs), typeof(LedgerJobs)];

    // A job whose class cannot be loaded any more is not shown either: what it was is unknown.
    public static bool Includes(JobData job) => job.Job is null || Classes.Contains(job.Job.Type);

    // Hangfire's PostgreSQL ids are numbers: anything else names no job.
    public static bool Includes(JobStorage storage, string jobId)
    {
        if (!long.TryParse(jobId, out _))
            return false;
        using var connection = storage.GetConnection();
        return connection.GetJobData(jobId) is { } job && Includes(job);
    }
}
