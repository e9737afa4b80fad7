namespace Crm.Api.Customers;

public interface ICustomerFields
{
    string? Name { get; }
    string? Phone { get; }
    string? Email { get; }
    string? City { get; }
    string? Address { get; }
    string? Notes { get; }
}
