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
            return new ShopResponse(ShopFollowerStatus.Disabled, 0, 0, 0, null, null, null, null, null, null, null, null, null, null, null, null, []);
        if (row is null)
        {
            return new ShopResponse(ShopFollowerStatus.Reconnecting, 0, 0, 0, null, null,
                "No process has started following the shop yet (it takes a process with role all or worker).",
                shop.Slot, shop.Publication, null, null, null, null, null, null, null, []);
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var silent = now - row.UpdatedAt;
        var state = row.State;
        var error = row.Error;
        if (state is ShopFollowerStatus.Following or ShopFollowerStatus.Snapshotting && silent > StaleAfter(shop))
        {
            state = ShopFollowerStatus.Reconnecting;
            error = $"No follower has reported for {silent.TotalSeconds:0} s (is a process with role all or worker running?).";
        }
        return new ShopResponse(state, row.SnapshotRows, row.OrdersApplied, row.Rejected, row.LagBytes,
            row.LastAppliedAt, error, row.Slot, row.Publication, row.Holder, row.UpdatedAt,
            row.RetainedWalBytes, row.WalStatus, row.SafeWalBytes, row.MaxSlotWalKeepSize, row.WalMeasuredAt,
            WalWarnings(row, shop, now));
    }

    // What the slot's hold on the shop's WAL asks of a person: the shop's disk is at stake.
    private static List<string> WalWarnings(ShopFollowerState row, ShopOptions shop, DateTime now)
    {
        var warnings = new List<string>();
        if (row.RetainedWalBytes > shop.MaxRetainedWalBytes)
            warnings.Add($"The slot keeps {ByteSize.Format(row.RetainedWalBytes.Value)} of the shop's WAL, more than Crm:Shop:MaxRetainedWal ({shop.MaxRetainedWal}): " +
                         "fix the follower, or stop the followers and drop the slot (shop-unfollow).");
        if (row.MaxSlotWalKeepSize < 0)
            warnings.Add("The shop's server has max_slot_wal_keep_size = -1 (unlimited): a follower that stops consuming keeps WAL until the shop's disk is full. " +
                         "Set it on the shop's server (e.g. 10GB; see docs/SHOP.md).");
        if (row.WalStatus is "unreserved" or "lost")
            warnings.Add($"The slot's wal_status is {row.WalStatus}: the shop's server has removed, or is about to remove, WAL it needs (max_slot_wal_keep_size); the table will be copied again.");
        if (row.WalMeasuredAt is { } measured && now - measured > StaleAfter(shop))
            warnings.Add($"The slot's retained WAL was last measured {(now - measured).TotalSeconds:0} s ago: no process holds the follower's lock, yet the slot keeps WAL.");
        return warnings;
    }

    private static TimeSpan StaleAfter(ShopOptions options) =>
        TimeSpan.FromTicks(Math.Max(options.StatusInterval.Ticks * 3, options.StaleAfter.Ticks));
}
