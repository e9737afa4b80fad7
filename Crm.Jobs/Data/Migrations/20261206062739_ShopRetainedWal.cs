using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class ShopRetainedWal : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "max_slot_wal_keep_size",
                table: "shop_follower",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "retained_wal_bytes",
                table: "shop_follower",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "safe_wal_bytes",
                table: "shop_follower",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "wal_measured_at",
                table: "shop_follower",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "wal_status",
                table: "shop_follower",
                type: "character varying(20)",
                maxLength: 20,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "max_slot_wal_keep_size",
                table: "shop_follower");

            migrationBuilder.DropColumn(
                name: "retained_wal_bytes",
                table: "shop_follower");

            migrationBuilder.DropColumn(
                name: "safe_wal_bytes",
                table: "shop_follower");

            migrationBuilder.DropColumn(
                name: "wal_measured_at",
                table: "shop_follower");

            migrationBuilder.DropColumn(
                name: "wal_status",
                table: "shop_follower");
        }
    }
}
