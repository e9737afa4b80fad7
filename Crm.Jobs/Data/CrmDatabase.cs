using Hangfire.PostgreSql;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Jobs.Data;

public static class CrmDatabase
{
    // The whole schema: EF Core migrations for the CRM tables, Hangfire's own tables in
    // the `hangfire` schema. Run by the `migrate` command (and at start in Development).
    public static async Task MigrateAsync(CrmDbContext db, CancellationToken ct = default)
    {
        // A migration may build an index over millions of rows: no statement timeout here.
        db.Database.SetCommandTimeout(0);
        await db.Database.MigrateAsync(ct);
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var wasClosed = connection.State == System.Data.ConnectionState.Closed;
        if (wasClosed)
            await connection.OpenAsync(ct);
        try
        {
            PostgreSqlObjectsInstaller.Install(connection, "hangfire");
        }
        finally
        {
            if (wasClosed)
                await connection.CloseAsync();
        }
    }
}
