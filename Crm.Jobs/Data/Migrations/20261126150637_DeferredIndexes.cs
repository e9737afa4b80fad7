using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Crm.Jobs.Data.Migrations
{
    /// <inheritdoc />
    public partial class DeferredIndexes : Migration
    {
        // The secondary indexes of customers a sync into an empty table dropped and has not
        // rebuilt yet (SyncEngine.DeferIndexesIfEmptyAsync): kept in the transaction that
        // drops them, so a crash in between loses no definition. Engine bookkeeping, not
        // part of the EF model.
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE deferred_indexes (
                    name text PRIMARY KEY,
                    definition text NOT NULL,
                    deferred_at timestamptz NOT NULL DEFAULT now()
                )
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE deferred_indexes");
        }
    }
}
