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
}
