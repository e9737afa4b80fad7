using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class Privacy : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "erased_phones",
                columns: table => new
                {
                    phone_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    erased_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_erased_phones", x => x.phone_hash);
                });

            migrationBuilder.CreateTable(
                name: "erasures",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    requested_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    requested_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    completed_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    customer_id = table.Column<long>(type: "bigint", nullable: true),
                    phone = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: true),
                    job_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    counts = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_erasures", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_erasures_requested_at",
                table: "erasures",
                column: "requested_at");

            // An erase and an export find every customer id that ever held the phone: the
            // created and deleted rows carry it (crm_record_customer_changes.sql), and the few
            // rows of a changed phone are listed by their own small index.
            migrationBuilder.Sql("""
                CREATE INDEX ix_customer_changes_person_phone ON customer_changes ((coalesce(new_value, old_value) ->> 'phone'))
                WHERE field IN ('created', 'deleted');
                CREATE INDEX ix_customer_changes_phone_rows ON customer_changes (id) WHERE field = 'phone';
                """);
            // The outbox's events about a customer (every customer.* event names it).
            migrationBuilder.Sql("""
                CREATE INDEX ix_webhook_events_customer_id ON webhook_events (((data ->> 'customerId')::bigint))
                WHERE data ? 'customerId';
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP INDEX ix_customer_changes_person_phone;
                DROP INDEX ix_customer_changes_phone_rows;
                DROP INDEX ix_webhook_events_customer_id;
                """);

            migrationBuilder.DropTable(
                name: "erased_phones");

            migrationBuilder.DropTable(
                name: "erasures");
        }
    }
}
