using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class PinFunctionSearchPath : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The trigger functions resolve their tables in public first, the session's own
            // temporary tables last: a temp table named webhooks or customer_changes can no
            // longer receive (or feed) what the triggers write (Crm.Jobs/Data/Sql/*.sql).
            migrationBuilder.Sql("""
                ALTER FUNCTION crm_record_customer_changes() SET search_path = public, pg_temp;
                ALTER FUNCTION crm_webhook_customer_events() SET search_path = public, pg_temp;
                ALTER FUNCTION crm_webhook_sync_events() SET search_path = public, pg_temp;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                ALTER FUNCTION crm_record_customer_changes() RESET search_path;
                ALTER FUNCTION crm_webhook_customer_events() RESET search_path;
                ALTER FUNCTION crm_webhook_sync_events() RESET search_path;
                """);
        }
    }
}
