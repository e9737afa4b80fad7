namespace Crm.Api.Infrastructure;

public sealed record PageQuery(int Page = 1, int PageSize = 50, string? Count = null) : IPageQuery;
