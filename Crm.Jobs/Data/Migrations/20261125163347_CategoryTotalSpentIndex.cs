using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class CategoryTotalSpentIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_customers_category",
                table: "customers");

            migrationBuilder.CreateIndex(
                name: "ix_customers_category_total_spent_id",
                table: "customers",
                columns: new[] { "category", "total_spent", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_customers_category_total_spent_id",
                table: "customers");

            migrationBuilder.CreateIndex(
                name: "ix_customers_category",
                table: "customers",
                column: "category");
        }
    }
}
