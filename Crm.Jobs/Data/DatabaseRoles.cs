using Npgsql;

namespace Crm.Jobs.Data;

// The least-privilege roles of a deployment (docs/SECURITY.md#database-roles): the owner runs
// `migrate`, which grants the app role (Crm:Database:AppRole) the rows of every table and the
// ledger prune role (Crm:Database:LedgerPruneRole) what only it may do to the ledger.
public static class DatabaseRoles
{
    // After every migration, so a table a later migration (or Hangfire's installer) adds is
    // granted by the same run. Idempotent. The roles' names come in as settings, quoted by
    // format('%I'): a DO block takes no parameters.
    private const string GrantSql = """
        SELECT set_config('crm.app_role', @app_role, true), set_config('crm.ledger_prune_role', @ledger_prune_role, true);
        DO $$
        DECLARE
            app text := current_setting('crm.app_role');
            prune text := nullif(current_setting('crm.ledger_prune_role'), '');
        BEGIN
            EXECUTE format('GRANT USAGE ON SCHEMA public, hangfire TO %I', app);
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public, hangfire TO %I', app);
            EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public, hangfire TO %I', app);
            -- The ledger is read and appended to (its trigger runs as the writer of customers);
            -- its rows change or go only through the prune role.
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON customer_changes FROM %I', app);
            -- What the schema's version is belongs to `migrate` alone.
            EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON __ef_migrations_history, hangfire.schema FROM %I', app);
            IF prune IS NOT NULL THEN
                EXECUTE format('GRANT SELECT, UPDATE, DELETE ON customer_changes TO %I', prune);
            END IF;
        END $$;
        """;

    // SET LOCAL ROLE with the name as a parameter: ends with the transaction, so a pooled
    // connection never keeps it.
    private const string UseRoleSql = "SELECT set_config('role', @role, true)";

    // Back to the connection's own role within the transaction (SET LOCAL ROLE NONE).
    private const string ResetRoleSql = "SELECT set_config('role', 'none', true)";

    public static async Task GrantAsync(NpgsqlConnection connection, DatabaseOptions options, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(options.AppRole))
            return;
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await connection.ExecuteAsync(GrantSql, transaction, ct,
            ("app_role", options.AppRole), ("ledger_prune_role", options.LedgerPruneRole));
        await transaction.CommitAsync(ct);
    }

    // Takes `role` for the rest of the transaction (or until ResetRoleAsync); none when empty,
    // so a connection as the owner or a superuser (Development, the tests) is left as it is.
    public static Task SetLocalRoleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string role, CancellationToken ct) =>
        string.IsNullOrWhiteSpace(role) ? Task.CompletedTask : connection.ExecuteAsync(UseRoleSql, transaction, ct, ("role", role));

    // Undoes SetLocalRoleAsync(role) within the transaction.
    public static Task ResetRoleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string role, CancellationToken ct) =>
        string.IsNullOrWhiteSpace(role) ? Task.CompletedTask : connection.ExecuteAsync(ResetRoleSql, transaction, ct);
}
