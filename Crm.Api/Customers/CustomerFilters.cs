using System.Globalization;
using System.Xml;
using Crm.Api.Infrastructure;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Phones;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Customers;

// A segment of customers (GET /api/customers' filters, docs/API.md "Customers"): every filter
// given must hold. Each is served by an index of its own (category, city, the statistics'
// and dates' sort indexes), so a single filter is an index range at any table size.
public static class CustomerFilters
{
    // The customers a list query selects: its filters and its search, not yet ordered or paged
    // (the list pages it, the CSV export streams it whole, saved segments count it). Relative
    // time bounds are taken back from now: the injected clock's, so tests can move it.
    public static IQueryable<Customer> Segment(CrmDbContext db, CustomerListQuery query, PhoneNormalizer phones, DateTime now)
    {
        var customers = Apply(db.Customers.AsNoTracking(), query, now);
        return string.IsNullOrWhiteSpace(query.Search)
            ? customers
            : CustomerSearch.Apply(customers, db.CustomerPhones, query.Search, phones);
    }

    // The page GET /api/customers answers for a segment: ordered, paged and counted by the
    // query's own ordering, page and count (the list, a saved segment's customers, the dashboard).
    public static Task<PagedResponse<CustomerResponse>> PageAsync(
        IQueryable<Customer> customers, CrmDbContext db, CustomerListQuery query, CancellationToken ct) =>
        customers.ToPageAsync(db, query, c => CustomerOrdering.Apply(c, query.Ordering), CustomerResponse.Projection, ct);

    public static IQueryable<Customer> Apply(IQueryable<Customer> customers, CustomerListQuery query, DateTime now)
    {
        if (query.Category is { Length: > 0 } names)
        {
            var categories = names.Select(EnumText.Parse<CustomerCategory>).Distinct().ToArray();
            customers = customers.Where(c => categories.Contains(c.Category));
        }
        // The city as people type it: without case (ICU, so Cyrillic folds whatever the
        // database locale) or surrounding spaces; the expression of ix_customers_city_folded.
        if (!string.IsNullOrWhiteSpace(query.City))
        {
            var city = query.City.Trim().ToLowerInvariant();
            customers = customers.Where(c => EF.Functions.Collate(c.City.Trim(), "und-x-icu").ToLower() == city);
        }
        if (query.MinSpent is { } minSpent)
            customers = customers.Where(c => c.TotalSpent >= minSpent);
        if (query.MaxSpent is { } maxSpent)
            customers = customers.Where(c => c.TotalSpent <= maxSpent);
        if (query.MinOrders is { } minOrders)
            customers = customers.Where(c => c.TotalOrders >= minOrders);
        if (query.MaxOrders is { } maxOrders)
            customers = customers.Where(c => c.TotalOrders <= maxOrders);
        if (ParseTime(query.LastOrderFrom, now) is { } lastOrderFrom)
            customers = customers.Where(c => c.LastOrderDate >= lastOrderFrom);
        if (ParseTime(query.LastOrderTo, now) is { } lastOrderTo)
            customers = customers.Where(c => c.LastOrderDate <= lastOrderTo);
        if (ParseTime(query.CreatedFrom, now) is { } createdFrom)
            customers = customers.Where(c => c.CreatedAt >= createdFrom);
        if (ParseTime(query.CreatedTo, now) is { } createdTo)
            customers = customers.Where(c => c.CreatedAt <= createdTo);
        return customers;
    }

    // What a time bound may be, for the messages that refuse one.
    public const string TimeForms = "an ISO 8601 date, date and time, or negative duration (-P60D, -PT12H: that long before now)";

    // ISO 8601, a date alone its day's start; without an offset, UTC. A negative duration
    // (-P60D, -PT12H, -P1DT2H) is that long before now, so a saved "no order for 60 days"
    // stays true (XmlConvert reads it; a year counts 365 days, a month 30). Null when absent
    // or not a time.
    public static DateTime? ParseTime(string? text, DateTime now)
    {
        if (text is null)
            return null;
        if (text.StartsWith("-P", StringComparison.Ordinal))
            return Before(text, now);
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.UtcDateTime
            : null;
    }

    private static DateTime? Before(string duration, DateTime now)
    {
        TimeSpan span;
        try
        {
            span = XmlConvert.ToTimeSpan(duration);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            return null;
        }
        // -P0D is now; a span reaching past year 1 is no time.
        return -span <= now - DateTime.MinValue ? now + span : null;
    }
}
