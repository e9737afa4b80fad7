using Hangfire.States;
using Hangfire.Storage;

namespace Crm.Api.JobStatus;

// A job as Hangfire's storage holds it: its data, its current state and its retries so far.
public sealed record StoredJob(JobData Job, StateData? State, int RetryCount)
{
    public string StateName => State?.Name ?? Job.State;

    // A failure's reason names its exception; other states say why Hangfire moved the job.
    public string? Reason => State?.Name == FailedState.StateName && State.Data.TryGetValue("ExceptionMessage", out var message)
        ? $"{State.Reason}: {message}".TrimStart(':', ' ')
        : State?.Reason;
}
