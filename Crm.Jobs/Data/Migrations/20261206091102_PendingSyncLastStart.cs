using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class PendingSyncLastStart : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "last_sync_started_at",
                table: "pending_sync_dispatch",
                type: "timestamp with time zone",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "last_sync_started_at",
                table: "pending_sync_dispatch");
        }
    }
}
