using Crm.Jobs.Customers;

namespace Crm.Api.Categories;

public sealed record CategoryCount(CustomerCategory Category, int Count);
