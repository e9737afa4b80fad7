namespace Crm.Jobs.Categories;

public sealed class CategoryOptions
{
    public const string Section = "Crm:Categories";

    public int RegularMinOrders { get; set; } = 3;
    public int VipMinOrders { get; set; } = 10;
    public decimal VipMinSpent { get; set; } = 100_000m;
    public int InactiveAfterDays { get; set; } = 180;

    // The recurring `recalculate-categories` job: a VIP who stops buying becomes inactive.
    public string RecalculateCron { get; set; } = "0 3 * * *";
    public string TimeZone { get; set; } = "UTC";
}
