namespace Crm.Jobs.Orders;

public enum OrderStatus
{
    New,
    Processing,
    Completed,
    Cancelled,
}
