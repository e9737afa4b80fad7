using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace Crm.Jobs.Data;

public static class CrmDatabase
{
    // The whole schema: EF Core migrations for the CRM tables, Hangfire's own tables in
    // the `hangfire` schema, then the app role's grants (DatabaseRoles) if one is named. Run by
    // the `migrate` command (and at start in Development).
    public static async Task MigrateAsync(CrmDbContext db, DatabaseOptions? roles = null, CancellationToken ct = default)
    {
        // A migration may build an index over millions of rows: no statement timeout here.
        db.Database.SetCommandTimeout(0);
        await CreateHistoryTableAsync(db, ct);
        await db.Database.MigrateAsync(ct);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var wasClosed = connection.State == System.Data.ConnectionState.Closed;
        if (wasClosed)
            await connection.OpenAsync(ct);
        try
        {
            PostgreSqlObjectsInstaller.Install(connection, "hangfire");
            if (roles is not null)
                await DatabaseRoles.GrantAsync(connection, roles, ct);
        }
        finally
        {
            if (wasClosed)
                await connection.CloseAsync();
        }
    }

    // The migrations not yet applied, also on a database that has never been migrated.
    public static async Task<List<string>> PendingMigrationsAsync(CrmDbContext db, CancellationToken ct = default)
    {
        await CreateHistoryTableAsync(db, ct);
        return (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
    }

    // EF reads the history table before it creates it and logs the failed read as an error
    // ("fail:" on a first start that works): create it first, so nothing fails.
    private static Task CreateHistoryTableAsync(CrmDbContext db, CancellationToken ct) =>
        db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(ct);

    // Deletes the rows of `table` older than the cutoff (`older` is the condition on
    // @cutoff), in slices of `slice` rows, each its own transaction: pruning a year of rows
    // never holds one long transaction. Returns the rows deleted.
    public static Task<int> DeleteInSlicesAsync(
        NpgsqlDataSource dataSource, string table, string older, DateTime cutoff, int slice, CancellationToken ct, string role = "") =>
        InSlicesAsync(dataSource, $"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {older} LIMIT @slice)", cutoff, slice, ct, role);

    // Runs `sql`, a statement that deletes or updates at most @slice of the rows it finds by
    // @cutoff and leaves them out of its next run, until it changes fewer than @slice rows.
    // Each run is its own transaction, as `role` if one is given (the ledger prune role: the
    // app role may not change the ledger itself, DatabaseRoles). Returns the rows changed.
    public static async Task<int> InSlicesAsync(
        NpgsqlDataSource dataSource, string sql, DateTime cutoff, int slice, CancellationToken ct, string role = "")
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var changed = 0;
        while (true)
        {
            await using var transaction = await connection.BeginTransactionAsync(ct);
            await DatabaseRoles.SetLocalRoleAsync(connection, transaction, role, ct);
            var rows = await connection.ExecuteAsync(sql, transaction, ct, ("cutoff", cutoff), ("slice", slice));
            await transaction.CommitAsync(ct);
            changed += rows;
            if (rows < slice)
                return changed;
        }
    }
}
