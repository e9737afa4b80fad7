using System.Globalization;
using System.Text.Json;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Npgsql;

namespace Crm.Jobs.Categories;

// docs/SYNC-RULES.md#categories: the first rule that holds decides. The one list below produces the category
// SQL the sync engine and the recalculation write, the rule SQL written beside it
// (customers.category_rule), and the explanation of each rule: one source of truth.
public static class CategoryRules
{
    private sealed record Rule(
        CategoryRule Name, CustomerCategory Category, Func<string, string, string, string, string> Condition,
        Func<Statistics, CategoryThresholds, string> Explain);

    public sealed record Statistics(int TotalOrders, decimal TotalSpent, DateTime? LastOrderDate);

    // Condition(totalOrders, totalSpent, lastOrderDate, parameter prefix).
    private static readonly Rule[] Rules =
    [
        new(CategoryRule.NoCompletedOrders, CustomerCategory.New,
            (o, _, _, _) => $"{o} = 0",
            (_, _) => "new: no completed orders"),
        new(CategoryRule.Inactive, CustomerCategory.Inactive,
            (_, _, d, p) => $"{d} < @{p}inactive_before",
            (s, t) => $"inactive: last order {Date(s.LastOrderDate)}, more than {t.InactiveAfterDays} days ago"),
        new(CategoryRule.VipByOrders, CustomerCategory.Vip,
            (o, _, _, p) => $"{o} >= @{p}vip_min_orders",
            (s, t) => $"vip: {s.TotalOrders} completed orders ≥ {t.VipMinOrders}"),
        new(CategoryRule.VipBySpent, CustomerCategory.Vip,
            (_, s, _, p) => $"{s} >= @{p}vip_min_spent",
            (s, t) => $"vip: {Money(s.TotalSpent)} spent ≥ {Money(t.VipMinSpent)}"),
        new(CategoryRule.Regular, CustomerCategory.Regular,
            (o, _, _, p) => $"{o} >= @{p}regular_min_orders",
            (s, t) => $"regular: {s.TotalOrders} completed orders ≥ {t.RegularMinOrders}"),
        new(CategoryRule.New, CustomerCategory.New,
            (_, _, _, _) => "TRUE",
            (s, t) => $"new: {s.TotalOrders} completed order{(s.TotalOrders == 1 ? "" : "s")} < {t.RegularMinOrders}"),
    ];

    // The category, as text. `prefix` names another set of parameters (the preview's).
    public static string Sql(string totalOrders, string totalSpent, string lastOrderDate, string prefix = "") =>
        Case(totalOrders, totalSpent, lastOrderDate, prefix, r => EnumText.ToText(r.Category));

    // The rule that decided, as text.
    public static string RuleSql(string totalOrders, string totalSpent, string lastOrderDate, string prefix = "") =>
        Case(totalOrders, totalSpent, lastOrderDate, prefix, r => EnumText.ToText(r.Name));

    private static string Case(string o, string s, string d, string prefix, Func<Rule, string> result) =>
        "CASE " + string.Join(" ", Rules.Select(r => $"WHEN {r.Condition(o, s, d, prefix)} THEN '{result(r)}'")) + " END";

    public static CustomerCategory CategoryOf(CategoryRule rule) => Rules.Single(r => r.Name == rule).Category;

    public static string Explain(CategoryRule rule, Statistics statistics, CategoryThresholds thresholds) =>
        Rules.Single(r => r.Name == rule).Explain(statistics, thresholds);

    public static void AddParameters(NpgsqlCommand command, CategoryOptions options, DateTime now, string prefix = "")
    {
        var thresholds = CategoryThresholds.From(options, now);
        command.Parameters.AddWithValue($"{prefix}inactive_before", thresholds.InactiveBefore);
        command.Parameters.AddWithValue($"{prefix}vip_min_orders", thresholds.VipMinOrders);
        command.Parameters.AddWithValue($"{prefix}vip_min_spent", thresholds.VipMinSpent);
        command.Parameters.AddWithValue($"{prefix}regular_min_orders", thresholds.RegularMinOrders);
    }

    // The thresholds as the ledger's trigger stores them with a category change (ChangeLedger).
    public static string ThresholdsJson(CategoryOptions options, DateTime now) =>
        JsonSerializer.Serialize(CategoryThresholds.From(options, now), CrmJson.Options);

    private static string Date(DateTime? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "none";

    private static string Money(decimal amount) => amount.ToString("0.##", CultureInfo.InvariantCulture);
}
