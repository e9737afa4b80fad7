using System.Text.RegularExpressions;
using Npgsql;

namespace Crm.Jobs.Data;

// What of a PostgreSQL error is logged (what readers see is FailureText's class): its
// SQLSTATE, message and constraint, never its Detail, which quotes the row ("Failing row contains (…)",
// "Key (phone)=(…)"). Integrity violations (class 23) name only objects in their message;
// a data exception's message (class 22) may quote the value itself (invalid input syntax
// for type integer: "…"; value "…" is out of range), so there what follows a colon and
// what is in quotes is cut.
public static partial class PostgresErrorText
{
    // "23514: new row for relation "customers" violates check constraint "ck" (ck)".
    public static string Of(PostgresException e) => $"{e.SqlState}: {Message(e)}";

    public static string Message(PostgresException e)
    {
        var text = e.MessageText;
        if (e.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            var colon = text.IndexOf(": ", StringComparison.Ordinal);
            text = Quoted().Replace(colon < 0 ? text : text[..colon], "\"…\"");
        }
        return e.ConstraintName is null ? text : $"{text} ({e.ConstraintName})";
    }

    // What a log line says of a failure it does not quote: the SQLSTATE of a PostgreSQL error
    // anywhere in the chain, else the innermost exception's type ("57P01", "SocketException").
    // Never a message, which may quote a value or name a host.
    public static string CodeOf(Exception exception)
    {
        var innermost = exception;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException postgres)
                return postgres.SqlState;
            innermost = e;
        }
        return innermost.GetType().Name;
    }

    [GeneratedRegex("\"[^\"]*\"")]
    private static partial Regex Quoted();
}
