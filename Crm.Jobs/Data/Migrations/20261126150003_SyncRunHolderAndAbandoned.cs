using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class SyncRunHolderAndAbandoned : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropCheckConstraint(
                name: "ck_sync_runs_status",
                table: "sync_runs");

            migrationBuilder.AddColumn<int>(
                name: "holder_pid",
                table: "sync_runs",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_sync_runs_running",
                table: "sync_runs",
                column: "status",
                filter: "status = 'running'");

            migrationBuilder.AddCheckConstraint(
                name: "ck_sync_runs_status",
                table: "sync_runs",
                sql: "status IN ('running', 'succeeded', 'failed', 'abandoned')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_sync_runs_running",
                table: "sync_runs");

            migrationBuilder.DropCheckConstraint(
                name: "ck_sync_runs_status",
                table: "sync_runs");

            migrationBuilder.DropColumn(
                name: "holder_pid",
                table: "sync_runs");

            migrationBuilder.AddCheckConstraint(
                name: "ck_sync_runs_status",
                table: "sync_runs",
                sql: "status IN ('running', 'succeeded', 'failed')");
        }
    }
}
