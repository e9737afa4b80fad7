namespace Crm.Jobs.Orders;

// Where an order came from: written through the API, loaded by an import, or followed
// from the shop's own database (SourceId is then the shop's order id).
public enum OrderSource
{
    Api,
    Import,
    Shop,
}
