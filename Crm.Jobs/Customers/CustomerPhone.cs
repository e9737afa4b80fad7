namespace Crm.Jobs.Customers;

// A phone of a customer besides its primary one (customers.phone): the orders of every phone
// of a customer count for it (docs/SYNC-RULES.md, "Several phones"). A phone belongs to at
// most one customer: the primary key here, and the writers' check against customers.phone
// under the phone's lock (CustomerPhonesEndpoints).
public class CustomerPhone
{
    public required string Phone { get; set; }
    public long CustomerId { get; set; }
    public DateTime AddedAt { get; set; }
}
