using Crm.Api.Shop;
using Crm.Jobs.Data;
using Crm.Jobs.Shop;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Crm.Api.Health;

// The shop follower in readiness: Degraded, never Unhealthy, while it reconnects, has failed,
// or lags past Crm:Shop:MaxLag; the API keeps serving either way.
public sealed class ShopHealthCheck(ShopQueries queries, IOptions<ShopOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
    {
        var shop = await queries.FollowerAsync(ct);
        return shop.State switch
        {
            ShopFollowerStatus.Disabled => HealthCheckResult.Healthy("not configured (Crm:Shop:ConnectionString)"),
            ShopFollowerStatus.Reconnecting or ShopFollowerStatus.Failed =>
                HealthCheckResult.Degraded($"{EnumText.ToText(shop.State)}: {shop.Error}"),
            _ when shop.LagBytes > options.Value.MaxLag =>
                HealthCheckResult.Degraded($"{EnumText.ToText(shop.State)}, {shop.LagBytes} bytes behind (Crm:Shop:MaxLag {options.Value.MaxLag})"),
            _ => HealthCheckResult.Healthy($"{EnumText.ToText(shop.State)}, {shop.LagBytes ?? 0} bytes behind"),
        };
    }
}
