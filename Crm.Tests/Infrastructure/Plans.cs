using Npgsql;

namespace Crm.Tests.Infrastructure;

public static class Plans
{
    // EXPLAIN (ANALYZE, BUFFERS) of a statement, without costs and timings (so a test can pin
    // the plan's shape): ANALYZE runs the statement, so inside a transaction rolled back.
    public static async Task<string> ExplainAnalyzeAsync(string connectionString, string sql, IReadOnlyDictionary<string, object> parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return await ExplainAnalyzeAsync(connection, sql, parameters);
    }

    // The same on an open connection: in a session set up as the code under test sets up its own.
    public static async Task<string> ExplainAnalyzeAsync(NpgsqlConnection connection, string sql, IReadOnlyDictionary<string, object> parameters)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) " + sql, connection, transaction);
        foreach (var (name, value) in parameters)
            explain.Parameters.AddWithValue(name, value);
        var lines = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                lines.Add(reader.GetString(0));
        }
        await transaction.RollbackAsync();
        return string.Join("\n", lines);
    }
}
