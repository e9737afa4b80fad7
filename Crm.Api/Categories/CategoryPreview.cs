using Crm.Jobs.Categories;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Api.Categories;

public static class CategoryPreview
{
    // Every customer's stored category against the one the thresholds give, in one pass over
    // customers: the same CASE (CategoryRules) the recalculation writes, on the p_ parameters.
    private static readonly string Sql = $"""
        SELECT category, {CategoryRules.Sql("total_orders", "total_spent", "last_order_date", "p_")} AS proposed, count(*)::int
        FROM customers
        GROUP BY 1, 2
        """;

    public static async Task<Ok<CategoryPreviewResponse>> Preview(
        CategoryPreviewRequest request, NpgsqlDataSource dataSource, IOptions<CategoryOptions> configured, TimeProvider clock,
        CancellationToken ct)
    {
        var options = new CategoryOptions
        {
            RegularMinOrders = request.RegularMinOrders ?? configured.Value.RegularMinOrders,
            VipMinOrders = request.VipMinOrders ?? configured.Value.VipMinOrders,
            VipMinSpent = request.VipMinSpent ?? configured.Value.VipMinSpent,
            InactiveAfterDays = request.InactiveAfterDays ?? configured.Value.InactiveAfterDays,
        };
        var now = clock.GetUtcNow().UtcDateTime;

        var groups = new List<CategoryTransition>();
        await using (var command = dataSource.CreateCommand(Sql))
        {
            CategoryRules.AddParameters(command, options, now, "p_");
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                groups.Add(new CategoryTransition(
                    EnumText.Parse<CustomerCategory>(reader.GetString(0)), EnumText.Parse<CustomerCategory>(reader.GetString(1)),
                    reader.GetInt32(2)));
            }
        }

        return TypedResults.Ok(new CategoryPreviewResponse(
            CategoryThresholds.From(options, now),
            Counts(groups, g => g.From),
            Counts(groups, g => g.To),
            groups.Where(g => g.From != g.To).OrderByDescending(g => g.Count).ThenBy(g => g.From).ThenBy(g => g.To).ToList()));
    }

    private static CategoryCounts Counts(List<CategoryTransition> groups, Func<CategoryTransition, CustomerCategory> by)
    {
        int Of(CustomerCategory category) => groups.Where(g => by(g) == category).Sum(g => g.Count);
        return new CategoryCounts(
            Of(CustomerCategory.New), Of(CustomerCategory.Regular), Of(CustomerCategory.Vip), Of(CustomerCategory.Inactive));
    }
}
