using System.Linq.Expressions;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Infrastructure;

// TotalCount stops at PagingRules.MaxCount; TotalCountExact is false when more than that matched.
public sealed record PagedResponse<T>(IReadOnlyList<T> Items, int Page, int PageSize, int TotalCount, bool TotalCountExact);

public sealed record PageQuery(int Page = 1, int PageSize = 50);

public sealed record JobAccepted(string JobId, string StatusUrl)
{
    public static Microsoft.AspNetCore.Http.HttpResults.Accepted<JobAccepted> For(string jobId) =>
        TypedResults.Accepted($"/api/jobs/{jobId}", new JobAccepted(jobId, $"/api/jobs/{jobId}"));
}

public static class PagingRules
{
    public const int MaxPageSize = 200;

    // Deep enough for any real list, small enough that (page - 1) * pageSize fits an int.
    public const int MaxPage = 1_000_000;

    // Counting every match of a broad search costs more than the page itself, so counts stop here.
    public const int MaxCount = 1_000;

    public static IRuleBuilderOptions<T, int> ValidPage<T>(this IRuleBuilder<T, int> rule) => rule.InclusiveBetween(1, MaxPage);

    public static IRuleBuilderOptions<T, int> ValidPageSize<T>(this IRuleBuilder<T, int> rule) => rule.InclusiveBetween(1, MaxPageSize);

    public static IQueryable<T> Page<T>(this IQueryable<T> query, int page, int pageSize) =>
        query.Skip((page - 1) * pageSize).Take(pageSize);

    // Every paged list: the matches counted (up to MaxCount), then one page of them in order.
    public static async Task<PagedResponse<TItem>> ToPageAsync<T, TItem>(
        this IQueryable<T> matches, Func<IQueryable<T>, IQueryable<T>> order, Expression<Func<T, TItem>> select,
        int page, int pageSize, CancellationToken ct)
    {
        var (totalCount, exact) = await matches.CountUpToMaxAsync(ct);
        var items = await order(matches).Page(page, pageSize).Select(select).ToListAsync(ct);
        return new PagedResponse<TItem>(items, page, pageSize, totalCount, exact);
    }

    // Pass the query before ordering: PostgreSQL runs count(*) over a LIMIT subquery and stops
    // at the first MaxCount + 1 matches it finds, instead of visiting all of them.
    public static async Task<(int TotalCount, bool Exact)> CountUpToMaxAsync<T>(this IQueryable<T> matches, CancellationToken ct)
    {
        var counted = await matches.Take(MaxCount + 1).CountAsync(ct);
        return (Math.Min(counted, MaxCount), counted <= MaxCount);
    }
}

public sealed class PageQueryValidator : AbstractValidator<PageQuery>
{
    public PageQueryValidator()
    {
        RuleFor(q => q.Page).ValidPage();
        RuleFor(q => q.PageSize).ValidPageSize();
    }
}
