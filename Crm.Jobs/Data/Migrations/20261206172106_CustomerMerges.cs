using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class CustomerMerges : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_customer_changes_personal_values",
                table: "customer_changes");

            migrationBuilder.CreateTable(
                name: "customer_merges",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    target_id = table.Column<long>(type: "bigint", nullable: false),
                    source_ids = table.Column<long[]>(type: "bigint[]", nullable: false),
                    merged_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    merged_by = table.Column<string>(type: "character varying(220)", maxLength: 220, nullable: false),
                    ledger_id = table.Column<long>(type: "bigint", nullable: false),
                    unmerged_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    unmerged_by = table.Column<string>(type: "character varying(220)", maxLength: 220, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_customer_merges", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_customer_changes_personal_values",
                table: "customer_changes",
                column: "changed_at",
                filter: "field IN ('created', 'deleted', 'name', 'phone', 'email', 'city', 'address', 'notes', 'merged') AND (old_value IS NOT NULL OR new_value IS NOT NULL)");

            migrationBuilder.CreateIndex(
                name: "ix_customer_merges_source_ids",
                table: "customer_merges",
                column: "source_ids")
                .Annotation("Npgsql:IndexMethod", "gin");

            migrationBuilder.CreateIndex(
                name: "ix_customer_merges_target_id",
                table: "customer_merges",
                column: "target_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "customer_merges");

            migrationBuilder.DropIndex(
                name: "ix_customer_changes_personal_values",
                table: "customer_changes");

            migrationBuilder.CreateIndex(
                name: "ix_customer_changes_personal_values",
                table: "customer_changes",
                column: "changed_at",
                filter: "field IN ('created', 'deleted', 'name', 'phone', 'email', 'city', 'address', 'notes') AND (old_value IS NOT NULL OR new_value IS NOT NULL)");
        }
    }
}
