namespace Crm.Jobs.Data;

// The keyed NpgsqlDataSource for work that legitimately runs for minutes: the sync engine,
// the category recalculation, imports, the demo data. Everything else (EF Core, Hangfire's
// storage, the API's own SQL) uses the default data source, whose statements time out
// after Crm:Database:CommandTimeout.
public static class CrmDataSources
{
    public const string Jobs = "jobs";
}

public sealed class DatabaseOptions
{
    public const string Section = "Crm:Database";

    // Every statement of the default data source: an API request, readiness, Hangfire's storage.
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(2);

    // The EF Core statements of an API write (POST, PUT, PATCH, DELETE). A write may queue
    // behind the other writes of the same customer, which all update its sync request row
    // (fifty at once take seconds on two cores), or behind a sync chunk holding its row.
    public TimeSpan WriteCommandTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
