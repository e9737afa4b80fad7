namespace Crm.Jobs.Categories;

// The thresholds a category was computed with, as the ledger keeps them with a category change.
public sealed record CategoryThresholds(
    int RegularMinOrders, int VipMinOrders, decimal VipMinSpent, int InactiveAfterDays, DateTime InactiveBefore)
{
    public static CategoryThresholds From(CategoryOptions options, DateTime now) => new(
        options.RegularMinOrders, options.VipMinOrders, options.VipMinSpent, options.InactiveAfterDays,
        now.AddDays(-options.InactiveAfterDays));
}
