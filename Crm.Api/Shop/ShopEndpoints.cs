using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Crm.Jobs.Shop;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Crm.Api.Shop;

// The follower of the shop's database (ShopFollower), as any process sees it: its row in
// shop_follower, judged against the configuration and the time of its last report.
public static class ShopEndpoints
{
    public static RouteGroupBuilder MapShop(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/shop")
            .WithTags("Shop")
            .AddEndpointFilterFactory(ValidationFilter.Create)
            .ProducesValidationProblem();
        group.MapGet("/", GetShop).WithName("GetShop")
            .WithSummary("The follower of the shop's database: state, snapshot, applied changes, rejections, lag");
        group.MapGet("/rejections", ListRejections).WithName("ListShopRejections")
            .WithSummary("Shop rows the follower skipped as invalid, with the reason, newest first");
        return group;
    }

    private static async Task<Ok<ShopResponse>> GetShop(CrmDbContext db, IOptions<ShopOptions> options, TimeProvider clock, CancellationToken ct) =>
        TypedResults.Ok(await ReadAsync(db, options.Value, clock, ct));

    private static async Task<Ok<PagedResponse<ShopRejectionResponse>>> ListRejections(
        [AsParameters] PageQuery query, CrmDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.ShopRejections.AsNoTracking().ToPageAsync(db, query,
            rejections => rejections.OrderByDescending(r => r.Id),
            r => new ShopRejectionResponse(r.Id, r.ShopId, r.Reason, r.Lsn.ToString(), r.RejectedAt),
            ct));

    // A follower reports every StatusInterval; a row older than a few of them has no follower
    // behind it any more (its process stopped or lost the CRM database).
    public static async Task<ShopResponse> ReadAsync(CrmDbContext db, ShopOptions options, TimeProvider clock, CancellationToken ct)
    {
        if (!options.Enabled)
            return new ShopResponse(ShopFollowerStatus.Disabled, 0, 0, 0, null, null, null, null, null, null, null);
        var row = await db.ShopFollower.AsNoTracking().SingleOrDefaultAsync(ct);
        if (row is null)
        {
            return new ShopResponse(ShopFollowerStatus.Reconnecting, 0, 0, 0, null, null,
                "No process has started following the shop yet (it takes a process with role all or worker).",
                options.Slot, options.Publication, null, null);
        }
        var silent = clock.GetUtcNow().UtcDateTime - row.UpdatedAt;
        var state = row.State;
        var error = row.Error;
        if (state is ShopFollowerStatus.Following or ShopFollowerStatus.Snapshotting && silent > StaleAfter(options))
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
