using Npgsql;

namespace Crm.Jobs.Data;

// The keyed NpgsqlDataSource for work that legitimately runs for minutes: the sync engine,
// the category recalculation, imports, the demo data. Everything else (EF Core, Hangfire's
// storage, the API's own SQL) uses the default data source, whose statements time out
// after Crm:Database:CommandTimeout.
public static class CrmDataSources
{
    public const string Jobs = "jobs";

    // The pools' names, as metrics and logs show them: never the connection string, which
    // names the host, database and user (docs/SECURITY.md, the /metrics promise).
    public const string RequestsPool = "crm-requests";
    public const string JobsPool = "crm-jobs";
    public const string LocksPool = "crm-locks";
    public const string ReadsPool = "crm-reads";
    public const string ShopPool = "shop";

    public static readonly IReadOnlySet<string> Names = new HashSet<string> { RequestsPool, JobsPool, LocksPool, ReadsPool, ShopPool };

    public static NpgsqlDataSource Create(string connectionString, string name) =>
        new NpgsqlDataSourceBuilder(connectionString) { Name = name }.Build();
}
