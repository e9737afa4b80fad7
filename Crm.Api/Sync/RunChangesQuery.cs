using Crm.Api.Infrastructure;

namespace Crm.Api.Sync;

public sealed record RunChangesQuery(int Page = 1, int PageSize = 50, string? Count = null, string? Field = null) : IPageQuery;
