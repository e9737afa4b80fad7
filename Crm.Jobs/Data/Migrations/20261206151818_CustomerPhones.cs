using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class CustomerPhones : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "customer_phones",
                columns: table => new
                {
                    phone = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    customer_id = table.Column<long>(type: "bigint", nullable: false),
                    added_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false, defaultValueSql: "now()")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_customer_phones", x => x.phone);
                    table.CheckConstraint("ck_customer_phones_e164", "phone ~ '^\\+[1-9][0-9]{1,14}$'");
                    table.ForeignKey(
                        name: "fk_customer_phones_customers_customer_id",
                        column: x => x.customer_id,
                        principalTable: "customers",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_customer_phones_customer_id",
                table: "customer_phones",
                column: "customer_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "customer_phones");
        }
    }
}
