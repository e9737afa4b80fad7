using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class WebhookLanes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Messages formed before lanes went out one at a time, as in one lane: they are
            // lane 0 of one lane, and a subscription's messages switch to Crm:Webhooks:Lanes
            // once those are delivered (docs/WEBHOOKS.md, lanes). The jobs' ids move to
            // webhook_lanes, one per lane; the dispatcher enqueues the lanes' jobs afresh.
            migrationBuilder.DropIndex(
                name: "ix_webhook_messages_undelivered",
                table: "webhook_messages");

            migrationBuilder.DropColumn(
                name: "delivery_job_id",
                table: "webhooks");

            migrationBuilder.AddColumn<int>(
                name: "lanes",
                table: "webhooks",
                type: "integer",
                nullable: false,
                defaultValue: 1);

            migrationBuilder.AddColumn<int>(
                name: "lane",
                table: "webhook_messages",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "lanes",
                table: "webhook_messages",
                type: "integer",
                nullable: false,
                defaultValue: 1);

            migrationBuilder.CreateTable(
                name: "webhook_lanes",
                columns: table => new
                {
                    webhook_id = table.Column<long>(type: "bigint", nullable: false),
                    lane = table.Column<int>(type: "integer", nullable: false),
                    delivery_job_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    failing_since = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_webhook_lanes", x => new { x.webhook_id, x.lane });
                    table.ForeignKey(
                        name: "fk_webhook_lanes_webhooks_webhook_id",
                        column: x => x.webhook_id,
                        principalTable: "webhooks",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_webhook_messages_undelivered",
                table: "webhook_messages",
                columns: new[] { "webhook_id", "lane", "id" },
                filter: "delivered_at IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "webhook_lanes");

            migrationBuilder.DropIndex(
                name: "ix_webhook_messages_undelivered",
                table: "webhook_messages");

            migrationBuilder.DropColumn(
                name: "lanes",
                table: "webhooks");

            migrationBuilder.DropColumn(
                name: "lane",
                table: "webhook_messages");

            migrationBuilder.DropColumn(
                name: "lanes",
                table: "webhook_messages");

            migrationBuilder.AddColumn<string>(
                name: "delivery_job_id",
                table: "webhooks",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_webhook_messages_undelivered",
                table: "webhook_messages",
                columns: new[] { "webhook_id", "id" },
                filter: "delivered_at IS NULL");
        }
    }
}
