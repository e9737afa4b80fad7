using Crm.Jobs.Customers;
using Crm.Jobs.Ledger;
using Crm.Jobs.Orders;
using Crm.Jobs.Privacy;
using Crm.Jobs.Segments;
using Crm.Jobs.Shop;
using Crm.Jobs.Sync;
using Crm.Jobs.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Crm.Jobs.Data;

public class CrmDbContext(DbContextOptions<CrmDbContext> options) : DbContext(options)
{
    public DbSet<Customer> Customers => Set<Customer>();
    public DbSet<CustomerNote> CustomerNotes => Set<CustomerNote>();
    public DbSet<CustomerPhone> CustomerPhones => Set<CustomerPhone>();
    public DbSet<CustomerMerge> CustomerMerges => Set<CustomerMerge>();
    public DbSet<Order> Orders => Set<Order>();
    public DbSet<SyncRun> SyncRuns => Set<SyncRun>();
    public DbSet<CustomerSyncRequest> CustomerSyncRequests => Set<CustomerSyncRequest>();
    public DbSet<PendingSyncDispatch> PendingSyncDispatch => Set<PendingSyncDispatch>();
    public DbSet<SyncError> SyncErrors => Set<SyncError>();
    public DbSet<ShopFollowerState> ShopFollower => Set<ShopFollowerState>();
    public DbSet<ShopRejection> ShopRejections => Set<ShopRejection>();
    public DbSet<CustomerChange> CustomerChanges => Set<CustomerChange>();
    public DbSet<Webhook> Webhooks => Set<Webhook>();
    public DbSet<WebhookEvent> WebhookEvents => Set<WebhookEvent>();
    public DbSet<WebhookMessage> WebhookMessages => Set<WebhookMessage>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<WebhookLane> WebhookLanes => Set<WebhookLane>();
    public DbSet<Erasure> Erasures => Set<Erasure>();
    public DbSet<ErasedPhone> ErasedPhones => Set<ErasedPhone>();
    public DbSet<Segment> Segments => Set<Segment>();

    // Inside a transaction of ours, EF Core wraps each SaveChanges in a savepoint and ignores a
    // RELEASE SAVEPOINT that fails: a connection lost at that moment (a failover) surfaced in
    // the next statement as "Transaction is already completed", a 500, instead of as the lost
    // connection, a 503. No writer here goes on with a transaction after a failed SaveChanges,
    // so the savepoints bought nothing (and cost two round trips a write).
    public override int SaveChanges(bool acceptAllChangesOnSuccess)
    {
        Database.AutoSavepointsEnabled = false;
        return base.SaveChanges(acceptAllChangesOnSuccess);
    }

    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        Database.AutoSavepointsEnabled = false;
        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Trigram indexes back the case-insensitive substring search on customers.
        modelBuilder.HasPostgresExtension("pg_trgm");
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(CrmDbContext).Assembly);
    }

    public static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        Common(options.UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history")));

    public static void Configure(DbContextOptionsBuilder options, Npgsql.NpgsqlDataSource dataSource) =>
        Common(options.UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history")));

    // Snake_case names for every table, column, key and index. The lists' bounded counts
    // (PagingRules.CountUpToMaxAsync) limit unordered queries on purpose: which matches are
    // counted does not matter, and an ORDER BY would make PostgreSQL visit them all.
    private static void Common(DbContextOptionsBuilder options) =>
        options.UseSnakeCaseNamingConvention()
            .ConfigureWarnings(warnings => warnings.Ignore(CoreEventId.RowLimitingOperationWithoutOrderByWarning));
}
