using Npgsql;

namespace Crm.Tests.Infrastructure;

// Every text-like column of the CRM's and Hangfire's tables, searched for a person's values:
// where any of them is found, "schema.table.column" (with the count).
public static class PersonalDataScan
{
    public const string TextColumnsSql = """
        SELECT c.table_schema, c.table_name, c.column_name
        FROM information_schema.columns c
        JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema IN ('public', 'hangfire') AND t.table_type = 'BASE TABLE'
          AND c.data_type IN ('text', 'character varying', 'character', 'jsonb', 'json', 'ARRAY')
        ORDER BY 1, 2, 3
        """;

    public static async Task<List<(string Schema, string Table, string Column)>> TextColumnsAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand(TextColumnsSql);
        await using var reader = await command.ExecuteReaderAsync();
        var columns = new List<(string, string, string)>();
        while (await reader.ReadAsync())
            columns.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        return columns;
    }

    public static async Task<List<string>> FindAsync(string connectionString, params string[] needles)
    {
        var found = new List<string>();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        foreach (var (schema, table, column) in await TextColumnsAsync(connectionString))
        {
            await using var command = dataSource.CreateCommand(
                $"SELECT count(*) FROM \"{schema}\".\"{table}\" WHERE \"{column}\"::text LIKE ANY(@patterns)");
            command.Parameters.AddWithValue("patterns", needles.Select(n => "%" + n + "%").ToArray());
            var count = (long)(await command.ExecuteScalarAsync())!;
            if (count > 0)
                found.Add($"{schema}.{table}.{column}: {count}");
        }
        return found;
    }
}
