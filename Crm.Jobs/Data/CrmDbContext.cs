using Crm.Jobs.Customers;
using Crm.Jobs.Orders;
using Crm.Jobs.Sync;
using Microsoft.EntityFrameworkCore;

namespace Crm.Jobs.Data;

public class CrmDbContext(DbContextOptions<CrmDbContext> options) : DbContext(options)
{
    public DbSet<Customer> Customers => Set<Customer>();
    public DbSet<CustomerNote> CustomerNotes => Set<CustomerNote>();
    public DbSet<Order> Orders => Set<Order>();
    public DbSet<SyncRun> SyncRuns => Set<SyncRun>();
    public DbSet<CustomerSyncRequest> CustomerSyncRequests => Set<CustomerSyncRequest>();
    public DbSet<PendingSyncDispatch> PendingSyncDispatch => Set<PendingSyncDispatch>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Trigram indexes back the case-insensitive substring search on customers.
        modelBuilder.HasPostgresExtension("pg_trgm");
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(CrmDbContext).Assembly);
    }

    // Snake_case names for every table, column, key and index.
    public static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history"))
            .UseSnakeCaseNamingConvention();

    public static void Configure(DbContextOptionsBuilder options, Npgsql.NpgsqlDataSource dataSource) =>
        options.UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history"))
            .UseSnakeCaseNamingConvention();
}
