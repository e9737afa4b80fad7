using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class LedgerPersonalValueRetention : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_customer_changes_personal_values",
                table: "customer_changes",
                column: "changed_at",
                filter: "field IN ('created', 'deleted', 'name', 'phone', 'email', 'city', 'address', 'notes') AND (old_value IS NOT NULL OR new_value IS NOT NULL)");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_customer_changes_personal_values",
                table: "customer_changes");
        }
    }
}
