namespace Crm.Jobs.Orders;

public class Order
{
    public long Id { get; set; }
    public string CustomerName { get; set; } = "";

    // As the shop sent it; NormalizedPhone is its E.164 form, null when it cannot be parsed.
    public string CustomerPhone { get; set; } = "";
    public string? NormalizedPhone { get; set; }
    public string CustomerEmail { get; set; } = "";
    public string DeliveryCity { get; set; } = "";
    public string DeliveryAddress { get; set; } = "";
    public decimal TotalAmount { get; set; }
    public OrderStatus Status { get; set; } = OrderStatus.New;
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public OrderSource Source { get; set; } = OrderSource.Api;
    public string? SourceId { get; set; }
}
