using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class SearchTextFoldsYo : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "search_text",
                table: "customers",
                type: "text",
                nullable: false,
                computedColumnSql: "replace(lower((name || ' ' || email || ' ' || phone) COLLATE \"und-x-icu\"), 'ё', 'е')",
                stored: true,
                oldClrType: typeof(string),
                oldType: "text",
                oldComputedColumnSql: "lower((name || ' ' || email || ' ' || phone) COLLATE \"und-x-icu\")",
                oldStored: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "search_text",
                table: "customers",
                type: "text",
                nullable: false,
                computedColumnSql: "lower((name || ' ' || email || ' ' || phone) COLLATE \"und-x-icu\")",
                stored: true,
                oldClrType: typeof(string),
                oldType: "text",
                oldComputedColumnSql: "replace(lower((name || ' ' || email || ' ' || phone) COLLATE \"und-x-icu\"), 'ё', 'е')",
                oldStored: true);
        }
    }
}
