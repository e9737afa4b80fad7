using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Shop;

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

    private static async Task<Ok<ShopResponse>> GetShop(ShopQueries queries, CancellationToken ct) =>
        TypedResults.Ok(await queries.FollowerAsync(ct));

    private static async Task<Ok<PagedResponse<ShopRejectionResponse>>> ListRejections(
        [AsParameters] PageQuery query, CrmDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.ShopRejections.AsNoTracking().ToPageAsync(db, query,
            rejections => rejections.OrderByDescending(r => r.Id),
            r => new ShopRejectionResponse(r.Id, r.ShopId, r.Reason, r.Lsn.ToString(), r.RejectedAt),
            ct));
}
