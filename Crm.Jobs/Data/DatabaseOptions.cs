namespace Crm.Jobs.Data;

public sealed class DatabaseOptions
{
    public const string Section = "Crm:Database";

    // Every statement of the default data source: an API request, readiness, Hangfire's storage.
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(2);

    // The EF Core statements of an API write (POST, PUT, PATCH, DELETE). A write may queue
    // behind the other writes of the same customer, which all update its sync request row
    // (fifty at once take seconds on two cores), or behind a sync chunk holding its row.
    public TimeSpan WriteCommandTimeout { get; set; } = TimeSpan.FromSeconds(10);

    // A second data source for the reads that may be a little stale (lists, search, segments,
    // a customer, its orders and timeline, exports, the dashboard's pages): typically the same
    // hosts as ConnectionStrings:Crm with Target Session Attributes=prefer-standby. Empty:
    // every read goes to the primary (docs/SCALING.md#step-4-read-replicas-for-lists-and-reads).
    public string ReadConnectionString { get; set; } = "";

    // How far behind the primary that server may be and still serve reads; further behind
    // (or not answering), reads go to the primary.
    public TimeSpan MaxReadLag { get; set; } = TimeSpan.FromSeconds(5);

    // The role the `migrate` command grants the rows of every table to (DML only; the ledger
    // read and appended to), as deploy/postgres/initdb/01-roles.sh's crm_app. Empty: no grants
    // (the app connects as the owner or a superuser, as in Development and the tests).
    public string AppRole { get; set; } = "";

    // The role prune-ledger and the erase take (SET LOCAL ROLE) for their statements that
    // change or delete ledger rows, which the app role itself may not; `migrate` grants it
    // them. Empty: none taken (the connection's own role may change the ledger).
    public string LedgerPruneRole { get; set; } = "";
}
