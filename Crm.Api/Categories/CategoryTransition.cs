using Crm.Jobs.Customers;

namespace Crm.Api.Categories;

public sealed record CategoryTransition(CustomerCategory From, CustomerCategory To, int Count);
