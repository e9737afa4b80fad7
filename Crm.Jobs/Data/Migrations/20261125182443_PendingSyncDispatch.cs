using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class PendingSyncDispatch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "enqueued_at",
                table: "customer_sync_requests");

            migrationBuilder.DropColumn(
                name: "job_id",
                table: "customer_sync_requests");

            migrationBuilder.CreateTable(
                name: "pending_sync_dispatch",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    claim = table.Column<long>(type: "bigint", nullable: false),
                    enqueued_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    job_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_pending_sync_dispatch", x => x.id);
                    table.CheckConstraint("ck_pending_sync_dispatch_singleton", "id = 1");
                });

            migrationBuilder.InsertData(
                table: "pending_sync_dispatch",
                columns: new[] { "id", "claim", "enqueued_at", "job_id" },
                values: new object[] { 1, 0L, null, null });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "pending_sync_dispatch");

            migrationBuilder.AddColumn<DateTime>(
                name: "enqueued_at",
                table: "customer_sync_requests",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "job_id",
                table: "customer_sync_requests",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);
        }
    }
}
