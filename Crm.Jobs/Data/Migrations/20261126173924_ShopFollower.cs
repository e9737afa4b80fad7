using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;
using NpgsqlTypes;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class ShopFollower : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "shop_follower",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    state = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    slot = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    publication = table.Column<string>(type: "character varying(63)", maxLength: 63, nullable: false),
                    publication_created = table.Column<bool>(type: "boolean", nullable: false),
                    applied_lsn = table.Column<NpgsqlLogSequenceNumber>(type: "pg_lsn", nullable: true),
                    snapshot_rows = table.Column<long>(type: "bigint", nullable: false),
                    snapshot_completed_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    orders_applied = table.Column<long>(type: "bigint", nullable: false),
                    rejected = table.Column<long>(type: "bigint", nullable: false),
                    lag_bytes = table.Column<long>(type: "bigint", nullable: true),
                    last_applied_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    error = table.Column<string>(type: "text", nullable: true),
                    holder = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_shop_follower", x => x.id);
                    table.CheckConstraint("ck_shop_follower_single_row", "id = 1");
                });

            migrationBuilder.CreateTable(
                name: "shop_rejections",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    shop_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    reason = table.Column<string>(type: "text", nullable: false),
                    lsn = table.Column<NpgsqlLogSequenceNumber>(type: "pg_lsn", nullable: false),
                    rejected_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_shop_rejections", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_shop_rejections_lsn_shop_id",
                table: "shop_rejections",
                columns: new[] { "lsn", "shop_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_shop_rejections_rejected_at",
                table: "shop_rejections",
                column: "rejected_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "shop_follower");

            migrationBuilder.DropTable(
                name: "shop_rejections");
        }
    }
}
