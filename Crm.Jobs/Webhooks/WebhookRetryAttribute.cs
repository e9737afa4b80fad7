using Hangfire.Common;
using Hangfire.Logging;
using Hangfire.States;

namespace Crm.Jobs.Webhooks;

// The delivery job's retries, as Standard Webhooks recommends: the delays grow, each moved by
// up to ±20% (jitter: the subscriptions that failed together do not all come back in the same
// second), and never sooner than a 429 or 503's Retry-After (capped at MaxDelay). Runs before
// Hangfire's AutomaticRetry (Order 20), which then finds the job rescheduled and only lists it
// under Retries; once Attempts are spent the job stays failed.
public sealed class WebhookRetryAttribute : JobFilterAttribute, IElectStateFilter
{
    public const int Attempts = 33;

    // With 27 retries an hour apart, a little over a day: Crm:Webhooks:DisableAfter (24 h)
    // disables a dead receiver's subscription before the job gives up.
    public static readonly TimeSpan[] Delays = [.. new[] { 5, 30, 60, 300, 900, 1800, 3600 }.Select(s => TimeSpan.FromSeconds(s))];

    public static readonly TimeSpan MaxDelay = Delays[^1];

    public const double Jitter = 0.2;

    private static readonly ILog Log = LogProvider.GetLogger(typeof(WebhookRetryAttribute));

    public WebhookRetryAttribute() => Order = 10;

    public void OnStateElection(ElectStateContext context)
    {
        if (context.CandidateState is not FailedState failed)
            return;
        var attempt = context.GetJobParameter<int>("RetryCount", allowStale: true) + 1;
        if (attempt > Attempts)
            return;
        context.SetJobParameter("RetryCount", attempt);
        // The job's failure arrives classified (JobFailureText); the receiver's answer is its cause.
        var delivery = failed.Exception as WebhookDeliveryException
                       ?? (failed.Exception as Crm.Jobs.Data.ClassifiedException)?.Cause as WebhookDeliveryException;
        var delay = Delay(attempt, delivery?.RetryAfter, Random.Shared.NextDouble());
        var message = failed.Exception.Message;
        // The reason's prefix is what AutomaticRetry lists under Retries by.
        context.CandidateState = new ScheduledState(delay)
        {
            Reason = $"Retry attempt {attempt} of {Attempts}: {(message.Length > 50 ? message[..49] + "…" : message)}",
        };
        Log.Warn($"Delivery job {context.BackgroundJob.Id} failed; retry attempt {attempt} of {Attempts} in {delay}.");
    }

    // The wait before retry `attempt` (1-based): its delay moved by `random` (0 to 1) within
    // ±Jitter, and at least the receiver's Retry-After.
    public static TimeSpan Delay(int attempt, TimeSpan? retryAfter, double random)
    {
        var delay = Delays[Math.Min(attempt, Delays.Length) - 1] * (1 + Jitter * (2 * random - 1));
        return retryAfter is { } wait && wait > delay ? TimeSpan.FromSeconds(Math.Min(wait.TotalSeconds, MaxDelay.TotalSeconds)) : delay;
    }
}
