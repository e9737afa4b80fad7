using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class OrderSource : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "source",
                table: "orders",
                type: "character varying(10)",
                maxLength: 10,
                nullable: false,
                defaultValue: "api");

            migrationBuilder.AddColumn<string>(
                name: "source_id",
                table: "orders",
                type: "character varying(100)",
                maxLength: 100,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_orders_source_source_id",
                table: "orders",
                columns: new[] { "source", "source_id" },
                unique: true,
                filter: "source_id IS NOT NULL");

            migrationBuilder.AddCheckConstraint(
                name: "ck_orders_source",
                table: "orders",
                sql: "source IN ('api', 'import', 'shop')");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_orders_source_source_id",
                table: "orders");

            migrationBuilder.DropCheckConstraint(
                name: "ck_orders_source",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "source",
                table: "orders");

            migrationBuilder.DropColumn(
                name: "source_id",
                table: "orders");
        }
    }
}
