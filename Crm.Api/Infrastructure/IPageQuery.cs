namespace Crm.Api.Infrastructure;

// What every paged list accepts: the page, its size, and count=exact to count every match.
public interface IPageQuery
{
    int Page { get; }
    int PageSize { get; }
    string? Count { get; }
}
