using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class CustomerCityIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // GET /api/customers?city=…: the city without case or surrounding white space, as
            // EF Core translates CustomerFilters' expression (Trim is btrim with these four
            // characters). EF Core's model has no expression indexes: the migration holds it alone.
            migrationBuilder.Sql("""
                CREATE INDEX ix_customers_city_folded ON customers (lower(btrim(city, E' \t\n\r') COLLATE "und-x-icu"))
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX ix_customers_city_folded");
        }
    }
}
