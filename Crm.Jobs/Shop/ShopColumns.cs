using Crm.Jobs.Orders;

namespace Crm.Jobs.Shop;

// The shop's column for each of our order fields (defaults: the Django model's names).
public sealed class ShopColumns
{
    public string Id { get; set; } = "id";
    public string CustomerName { get; set; } = "customer_name";
    public string CustomerPhone { get; set; } = "customer_phone";
    public string CustomerEmail { get; set; } = "customer_email";
    public string DeliveryCity { get; set; } = "delivery_city";
    public string DeliveryAddress { get; set; } = "delivery_address";
    public string TotalAmount { get; set; } = "total_amount";
    public string Status { get; set; } = "status";
    public string CreatedAt { get; set; } = "created_at";

    // In OrderField order: the order the follower reads a row's values in.
    public string[] InFieldOrder() =>
        [Id, CustomerName, CustomerPhone, CustomerEmail, DeliveryCity, DeliveryAddress, TotalAmount, Status, CreatedAt];
}
