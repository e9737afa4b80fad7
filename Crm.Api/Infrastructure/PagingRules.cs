using System.Linq.Expressions;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Infrastructure;

public static class PagingRules
{
    public const int MaxPageSize = 200;

    // Deep enough for any real list, small enough that (page - 1) * pageSize fits an int.
    public const int MaxPage = 1_000_000;

    // Counting every match of a broad search costs more than the page itself, so counts stop here.
    public const int MaxCount = 1_000;

    // count=exact counts every match, bounded by this statement timeout.
    public const string ExactCount = "exact";
    public static readonly TimeSpan ExactCountTimeout = TimeSpan.FromSeconds(10);

    // page, pageSize and count of any paged list's query.
    public static void ValidPaging<T>(this AbstractValidator<T> validator) where T : IPageQuery
    {
        validator.RuleFor(q => q.Page).InclusiveBetween(1, MaxPage);
        validator.RuleFor(q => q.PageSize).InclusiveBetween(1, MaxPageSize);
        validator.RuleFor(q => q.Count)
            .Must(c => c is null or ExactCount)
            .WithMessage($"Count must be '{ExactCount}' (count every match) or left out (count up to {MaxCount}).");
    }

    public static IQueryable<T> Page<T>(this IQueryable<T> query, int page, int pageSize) =>
        query.Skip((page - 1) * pageSize).Take(pageSize);

    // Every paged list: the matches counted (up to MaxCount, or all of them with count=exact),
    // then one page of them in order.
    public static async Task<PagedResponse<TItem>> ToPageAsync<T, TItem>(
        this IQueryable<T> matches, DbContext db, IPageQuery query, Func<IQueryable<T>, IQueryable<T>> order,
        Expression<Func<T, TItem>> select, CancellationToken ct)
    {
        var (totalCount, exact) = query.Count == ExactCount
            ? (await CountExactlyAsync(db, matches, ct), true)
            : await matches.CountUpToMaxAsync(ct);
        var items = await order(matches).Page(query.Page, query.PageSize).Select(select).ToListAsync(ct);
        return new PagedResponse<TItem>(items, query.Page, query.PageSize, totalCount, exact);
    }

    // Pass the query before ordering: PostgreSQL runs count(*) over a LIMIT subquery and stops
    // at the first MaxCount + 1 matches it finds, instead of visiting all of them.
    public static async Task<(int TotalCount, bool Exact)> CountUpToMaxAsync<T>(this IQueryable<T> matches, CancellationToken ct)
    {
        var counted = await matches.Take(MaxCount + 1).CountAsync(ct);
        return (Math.Min(counted, MaxCount), counted <= MaxCount);
    }

    // Every match, under PostgreSQL's statement_timeout: a count that would take longer is
    // stopped by the server, and the request answers 422 naming count.
    private static async Task<int> CountExactlyAsync<T>(DbContext db, IQueryable<T> matches, CancellationToken ct)
    {
        var commandTimeout = db.Database.GetCommandTimeout();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var milliseconds = ((int)ExactCountTimeout.TotalMilliseconds).ToString();
        await db.Database.ExecuteSqlAsync($"SELECT set_config('statement_timeout', {milliseconds}, true)", ct);
        // The client waits a little longer than the server's own limit, which answers first.
        db.Database.SetCommandTimeout(ExactCountTimeout + TimeSpan.FromSeconds(2));
        try
        {
            var count = await matches.CountAsync(ct);
            await transaction.CommitAsync(ct);
            return count;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.QueryCanceled)
        {
            throw new BadHttpRequestException(
                $"count=exact: counting every match took longer than {ExactCountTimeout.TotalSeconds:0} s; narrow the filter or leave count out.",
                StatusCodes.Status422UnprocessableEntity, e);
        }
        finally
        {
            db.Database.SetCommandTimeout(commandTimeout);
        }
    }
}
