using Npgsql;

namespace Crm.Jobs.Data;

// Failures that say the database cannot be reached right now or is being replaced, so that
// the same work a moment later may succeed: the API answers them 503 with Retry-After
// (ProblemExceptionHandler), a job's failure text calls them so (FailureText), and Hangfire
// retries the job. Anything else (a refused password, a bug) stays what it is.
public static class DatabaseUnavailable
{
    // Npgsql's text when every host of a multi-host connection string is known, from a recent
    // attempt, to be down or unfit (a standby, for Target Session Attributes=read-write): no
    // type, code or inner exception sets it apart from its other plain NpgsqlExceptions.
    public const string NoSuitableHost = "No suitable host was found.";

    // Anywhere in the chain: EF Core, Hangfire's client and the sync engine wrap Npgsql's
    // exceptions. Of several failures gathered in one (every host of a multi-host connection
    // string tried), each must be, not only the first that InnerException names.
    public static bool IsAnywhereIn(Exception exception) => exception switch
    {
        _ when Is(exception) => true,
        AggregateException several => several.InnerExceptions.Count > 0 && several.InnerExceptions.All(IsAnywhereIn),
        { InnerException: { } inner } => IsAnywhereIn(inner),
        _ => false,
    };

    public static bool Is(Exception exception) => exception switch
    {
        // Network errors, timeouts, a server shutting down; Npgsql's own list.
        NpgsqlException { IsTransient: true } or TimeoutException => true,
        PostgresException postgres => IsFailoverState(postgres.SqlState),
        // Every host of a multi-host connection string tried and failed ("Unable to connect to a
        // suitable host"): unavailable only if each host's failure is, so a refused password
        // on one of them stays an error.
        NpgsqlException { InnerException: AggregateException hosts } => IsAnywhereIn(hosts),
        NpgsqlException { InnerException: null, Message: NoSuitableHost } => true,
        _ => false,
    };

    public static bool IsFailoverState(string sqlState) => FailoverStates.Contains(sqlState);

    // What a server being replaced answers, which Npgsql does not count as transient: a
    // standby (or a primary not yet promoted) refusing a write, and a session the server
    // ended because it is shutting down. A retry a moment later reaches the new primary.
    private static readonly HashSet<string> FailoverStates =
    [
        PostgresErrorCodes.ReadOnlySqlTransaction, // 25006
        PostgresErrorCodes.AdminShutdown,          // 57P01
        PostgresErrorCodes.CrashShutdown,          // 57P02
        PostgresErrorCodes.CannotConnectNow,       // 57P03
    ];
}
