using Crm.Jobs.Data;
using Hangfire.Server;
using Microsoft.Extensions.Logging;

namespace Crm.Jobs.Hosting;

// A job's failure as Hangfire stores it, and so as GET /api/jobs/{id}, the dashboard, a
// retry's reason and the original routes' 500 show it: FailureText's class of the
// exception, never its text. Hangfire's performer, wrapped: the worker makes the failed
// state (kept in the job's history even once a retry replaces it) from the exception the
// performer throws, so the exception is classified before any state is made of it. The
// job's filters (JobObservation) still see the real one; the log gets it, with the text's
// reference.
internal sealed class JobFailureText(IBackgroundJobPerformer inner, ILogger<JobFailureText> logger) : IBackgroundJobPerformer
{
    public object Perform(PerformContext context)
    {
        try
        {
            return inner.Perform(context);
        }
        catch (JobPerformanceException e) when (e.InnerException is { } failure and not ClassifiedException)
        {
            var text = FailureText.Of(failure);
            logger.LogWarning(failure, "Job {JobId} failed: {Error} (reference {Reference})",
                context.BackgroundJob.Id, text, FailureText.ReferenceOf(failure));
            throw new JobPerformanceException(e.Message, new ClassifiedException(text, failure));
        }
    }
}
