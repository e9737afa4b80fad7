namespace Crm.Api.Customers;

public enum TimelineKind
{
    Order,
    Note,
    Change,
    Created,
}
