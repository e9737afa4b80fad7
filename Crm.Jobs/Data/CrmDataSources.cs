namespace Crm.Jobs.Data;

// The keyed NpgsqlDataSource for work that legitimately runs for minutes: the sync engine,
// the category recalculation, imports, the demo data. Everything else (EF Core, Hangfire's
// storage, the API's own SQL) uses the default data source, whose statements time out
// after Crm:Database:CommandTimeout.
public static class CrmDataSources
{
    public const string Jobs = "jobs";
}
