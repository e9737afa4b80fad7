using Crm.Api.Shop;
using Crm.Jobs.Data;
using Crm.Jobs.Shop;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Crm.Api.Health;

// The shop follower in readiness. Unhealthy only while our slot keeps more of the shop's WAL
// than Crm:Shop:MaxRetainedWal, whatever the follower's state: the shop's disk is at stake, so
// someone must act. Degraded while it reconnects, has failed, lags past Crm:Shop:MaxLag, or
// something needs the shop's DBA (ShopQueries' warnings: max_slot_wal_keep_size unlimited).
public sealed class ShopHealthCheck(ShopQueries queries, IOptions<ShopOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
    {
        var o = options.Value;
        var shop = await queries.FollowerAsync(ct);
        var state = EnumText.ToText(shop.State);
        var warnings = string.Concat(shop.Warnings.Select(w => " " + w));
        return shop.State switch
        {
            ShopFollowerStatus.Disabled => HealthCheckResult.Healthy("not configured (Crm:Shop:ConnectionString)"),
            _ when shop.RetainedWalBytes > o.MaxRetainedWalBytes =>
                HealthCheckResult.Unhealthy($"{state}, the slot keeps {shop.RetainedWalBytes} bytes of the shop's WAL (Crm:Shop:MaxRetainedWal {o.MaxRetainedWal}).{warnings}"),
            ShopFollowerStatus.Reconnecting or ShopFollowerStatus.Failed =>
                HealthCheckResult.Degraded($"{state}: {shop.Error}{warnings}"),
            _ when shop.LagBytes > o.MaxLag =>
                HealthCheckResult.Degraded($"{state}, {shop.LagBytes} bytes behind (Crm:Shop:MaxLag {o.MaxLag}).{warnings}"),
            _ when shop.Warnings.Count > 0 => HealthCheckResult.Degraded($"{state}.{warnings}"),
            _ => HealthCheckResult.Healthy($"{state}, {shop.LagBytes ?? 0} bytes behind"),
        };
    }
}
