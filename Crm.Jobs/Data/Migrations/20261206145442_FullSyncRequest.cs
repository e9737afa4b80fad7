using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class FullSyncRequest : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "full_sync_requested_at",
                table: "pending_sync_dispatch",
                type: "timestamp with time zone",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "full_sync_requested_at",
                table: "pending_sync_dispatch");
        }
    }
}
