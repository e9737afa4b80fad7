using Crm.Jobs.Categories;

namespace Crm.Api.Customers;

// Why a customer is in its category: the rule that decided and its explanation, both from
// CategoryRules (the same list that computed the category).
public sealed record CategoryReason(CategoryRule Rule, string Text)
{
    public static CategoryReason Of(
        CategoryRule rule, int totalOrders, decimal totalSpent, DateTime? lastOrderDate, CategoryThresholds thresholds) =>
        new(rule, CategoryRules.Explain(rule, new CategoryRules.Statistics(totalOrders, totalSpent, lastOrderDate), thresholds));
}
