using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Npgsql;

namespace Crm.Api.Reads;

// The server one request's stale-tolerant reads go to, chosen once so that all its reads see
// the same server. Handlers take it as [FromKeyedServices(ReadSource.Key)] CrmDbContext (or
// CustomerQueries, OrderQueries), or ReadSource itself for their own SQL (DataSource).
public sealed class ReadSource(ReadReplica replica, IHttpContextAccessor http, TimeProvider clock, CrmMetrics metrics)
{
    public const string Key = "reads";

    private NpgsqlDataSource? _chosen;

    public NpgsqlDataSource DataSource => _chosen ??= Choose();

    // A context of its own (not pooled) on the chosen server; the request's scope disposes it.
    public CrmDbContext CreateContext() =>
        new(DataSource == replica.Standby ? replica.StandbyContext! : replica.PrimaryContext);

    private NpgsqlDataSource Choose()
    {
        if (replica.Standby is null)
            return replica.Primary;
        var byStandby = replica.Serves(ReadYourWrites.ReadAfter(http.HttpContext), clock.GetUtcNow().UtcDateTime);
        metrics.ReadServed(byStandby && replica.Latest?.IsStandby == true);
        return byStandby ? replica.Standby : replica.Primary;
    }
}
