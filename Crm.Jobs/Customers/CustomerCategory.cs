namespace Crm.Jobs.Customers;

public enum CustomerCategory
{
    New,
    Regular,
    Vip,
    Inactive,
}
