using Npgsql;

namespace Crm.Jobs.Data;

// The planner's statistics of a table that a bulk write just changed much of. Autovacuum
// analyses such a table too, but only after its nap and its queue: until then every
// statement is planned for the table as it was (a user's freshly loaded orders, with no
// statistics at all). So the work that changes much of a table analyses it before it reports
// success, by autovacuum's own rule: more rows changed than 50 + 10 % of the table.
public static class TableStatistics
{
    // reltuples < 0: never analysed. Only the table's owner (or a superuser) may analyse it:
    // a deployment's app role (docs/SECURITY.md#database-roles) leaves it to autovacuum.
    private const string StaleSql = """
        SELECT pg_has_role(c.relowner, 'USAGE') AND (c.reltuples < 0 OR @changed > 50 + 0.1 * c.reltuples)
        FROM pg_class c WHERE c.oid = @table::regclass
        """;

    // `table` is one of the service's own table names, never input: ANALYZE takes no parameter.
    public static async Task<bool> AnalyzeIfManyChangedAsync(NpgsqlConnection connection, string table, long changed, CancellationToken ct)
    {
        if (changed <= 50 || !await connection.ScalarAsync<bool>(StaleSql, ct, ("table", table), ("changed", changed)))
            return false;
        await connection.ExecuteAsync($"ANALYZE {table}", ct);
        return true;
    }
}
