using System.Net.Sockets;
using System.Security.Cryptography;
using Crm.Jobs.Webhooks;
using Npgsql;

namespace Crm.Jobs.Data;

// What a failure is called wherever readers see it: sync_runs.error (and the sync.failed
// webhook made from it), sync_errors.error, a job's failure on GET /api/jobs/{id}, the
// dashboard and the original routes' 500. It says what happened, by exception type and
// SQLSTATE class, never where: an exception's own text names hosts, constraints and a
// customer's values. The exception itself goes to the log only, with the reference that
// an unexpected error's text names (the same for every text made of one exception). Each
// text has at most 50 characters: Hangfire cuts a retry's reason there.
public static class FailureText
{
    private const string ReferenceKey = "crm:failure-reference";

    public static string Of(Exception e) => Unwrapped(e) switch
    {
        ClassifiedException classified => classified.Message,
        PostgresException postgres => OfPostgres(postgres),
        NpgsqlException { InnerException: TimeoutException } or TimeoutException => "A database command timed out",
        // Npgsql's transient errors, and every host of a multi-host connection string down or a
        // standby (a failover under way).
        SocketException => "The database is unavailable",
        NpgsqlException npgsql when DatabaseUnavailable.Is(npgsql) => "The database is unavailable",
        OperationCanceledException => "The job was cancelled or timed out",
        // The receiver's answers belong to the subscription (GET /api/webhooks/{id}/deliveries, admin only).
        WebhookDeliveryException => "The webhook's receiver refused the delivery",
        var other => $"Unexpected error (see the log, reference {ReferenceOf(other)})",
    };

    // A short random id, kept on the exception so that its log lines and texts agree.
    public static string ReferenceOf(Exception e)
    {
        if (e.Data[ReferenceKey] is string reference)
            return reference;
        reference = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        e.Data[ReferenceKey] = reference;
        return reference;
    }

    // By SQLSTATE class (PostgreSQL's Appendix A), with the code: it names no object.
    private static string OfPostgres(PostgresException e) => e.SqlState switch
    {
        // A server shutting down, or a standby refusing a write while a failover is under way.
        var s when DatabaseUnavailable.IsFailoverState(s) => $"The database is unavailable ({s})",
        "57014" => $"A database statement ran too long ({e.SqlState})",
        var s when s.StartsWith("08", StringComparison.Ordinal) || s.StartsWith("53", StringComparison.Ordinal)
            || s.StartsWith("58", StringComparison.Ordinal) => $"The database is unavailable ({s})",
        var s when s.StartsWith("23", StringComparison.Ordinal) => $"A database constraint refused a row ({s})",
        var s when s.StartsWith("22", StringComparison.Ordinal) => $"The database refused a value ({s})",
        var s when s.StartsWith("40", StringComparison.Ordinal) => $"A conflict rolled a transaction back ({s})",
        var s when s.StartsWith("P0", StringComparison.Ordinal) => $"A database trigger refused the statement ({s})",
        var s when s.StartsWith("42", StringComparison.Ordinal) => $"The database schema does not match ({s})",
        var s => $"The database refused a statement ({s})",
    };

    private static Exception Unwrapped(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } aggregate
        ? Unwrapped(aggregate.InnerExceptions[0])
        : e;
}
