namespace Crm.Jobs.Orders;

// An order's fields as imports and the shop name them. A CSV header names the fields after
// Id; the shop's follower reads a row's values in this order (ShopColumns.InFieldOrder
// lists the shop's columns to match). The member names are also the Crm:Shop:Columns keys
// and appear in error texts, so renaming one renames a setting.
public enum OrderField
{
    // The order's id in the shop (orders.source_id); an import's records have none.
    Id,
    CustomerName,
    CustomerPhone,
    CustomerEmail,
    DeliveryCity,
    DeliveryAddress,
    TotalAmount,
    Status,
    CreatedAt,
}
