namespace Crm.Api.Infrastructure;

// TotalCount stops at PagingRules.MaxCount; TotalCountExact is false when more than that matched.
public sealed record PagedResponse<T>(IReadOnlyList<T> Items, int Page, int PageSize, int TotalCount, bool TotalCountExact);
