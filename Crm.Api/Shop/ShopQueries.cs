using Crm.Jobs.Data;
using Crm.Jobs.Shop;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crm.Api.Shop;

// The follower of the shop's database (ShopFollower), as any process sees it: its row in
// shop_follower, judged against the configuration and the time of its last report. GET
// /api/shop answers it, the dashboard's Shop card and the readiness check judge it.
public sealed class ShopQueries(CrmDbContext db, IOptions<ShopOptions> options, TimeProvider clock)
{
    // A follower reports every StatusInterval; a row older than a few of them has no follower
    // behind it any more (its process stopped or lost the CRM database).
    // A process without the shop's connection string (the API of a deployment: only followers
    // hold that secret) judges by the row alone: none means nothing is followed.
    public async Task<ShopResponse> FollowerAsync(CancellationToken ct)
    {
        var shop = options.Value;
        var row = await db.ShopFollower.AsNoTracking().SingleOrDefaultAsync(ct);
        if (!shop.Enabled && row is null)
            return new ShopResponse(ShopFollowerStatus.Disabled, 0, 0, 0, null, null, null, null, null, null, null);
        if (row is null)
        {
            return new ShopResponse(ShopFollowerStatus.Reconnecting, 0, 0, 0, null, null,
                "No process has started following the shop yet (it takes a process with role all or worker).",
                shop.Slot, shop.Publication, null, null);
        }
        var silent = clock.GetUtcNow().UtcDateTime - row.UpdatedAt;
        var state = row.State;
        var error = row.Error;
        if (state is ShopFollowerStatus.Following or ShopFollowerStatus.Snapshotting && silent > StaleAfter(shop))
        {
            state = ShopFollowerStatus.Reconnecting;
            error = $"No follower has reported for {silent.TotalSeconds:0} s (is a process with role all or worker running?).";
        }
        return new ShopResponse(state, row.SnapshotRows, row.OrdersApplied, row.Rejected, row.LagBytes,
            row.LastAppliedAt, error, row.Slot, row.Publication, row.Holder, row.UpdatedAt);
    }

    private static TimeSpan StaleAfter(ShopOptions options) =>
        TimeSpan.FromTicks(Math.Max(options.StatusInterval.Ticks * 3, TimeSpan.FromSeconds(30).Ticks));
}
