namespace Crm.Jobs.Data;

// A failure whose message was written for readers (FailureText passes it on as it is):
// what happened, naming no host, constraint or value. Cause is the exception it classifies,
// for the job's filters in this process (a webhook delivery's Retry-After); it is not an
// InnerException, so Hangfire, which stores an exception's ToString(), never stores it.
public sealed class ClassifiedException(string message, Exception? cause = null) : Exception(message)
{
    public Exception? Cause { get; } = cause;
}
