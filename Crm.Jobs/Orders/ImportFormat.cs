namespace Crm.Jobs.Orders;

public enum ImportFormat
{
    Ndjson,
    Csv,
}
