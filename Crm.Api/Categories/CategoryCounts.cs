namespace Crm.Api.Categories;

public sealed record CategoryCounts(int New, int Regular, int Vip, int Inactive);
