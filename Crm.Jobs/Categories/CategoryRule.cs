namespace Crm.Jobs.Categories;

// Which rule decided a customer's category.
public enum CategoryRule
{
    NoCompletedOrders,
    Inactive,
    VipByOrders,
    VipBySpent,
    Regular,
    New,
}
