using System.Globalization;
using System.Numerics;
using System.Text.Json;
using Crm.Api.Customers;
using FluentValidation;

namespace Crm.Api.Dashboard;

// The Customers page's GET form: the parameters of GET /api/customers, by the same names,
// bound into the API's CustomerListQuery and checked by its validator. Errors are keyed by
// the parameter's name, each message naming it, as the API's 400 does.
public sealed record CustomerListForm(CustomerListQuery Query, IReadOnlyList<(string Field, string Message)> Errors)
{
    // What the form sends, in the form's order; page, pageSize and count are the table's.
    public static readonly string[] Filters =
        ["search", "category", "city", "minSpent", "maxSpent", "minOrders", "maxOrders",
         "lastOrderFrom", "lastOrderTo", "createdFrom", "createdTo", "ordering"];

    public bool IsValid => Errors.Count == 0;

    public static CustomerListForm Read(HttpRequest request, IValidator<CustomerListQuery> validator)
    {
        var errors = new List<(string, string)>();
        // An empty box sends "name=": the filter is not given.
        string? Text(string name) => request.Query[name].ToString() is { Length: > 0 } text ? text : null;

        T? Number<T>(string name, string message) where T : struct, INumber<T>
        {
            if (Text(name) is not { } text)
                return null;
            if (T.TryParse(text.Trim(), NumberStyles.Number, CultureInfo.InvariantCulture, out var value))
                return value;
            errors.Add((name, $"{name} {message}"));
            return null;
        }

        var categories = request.Query["category"].Where(c => !string.IsNullOrEmpty(c)).Select(c => c!).ToArray();
        var query = new CustomerListQuery(
            Category: categories.Length == 0 ? null : categories,
            City: Text("city"),
            MinSpent: Number<decimal>("minSpent", "must be a number."),
            MaxSpent: Number<decimal>("maxSpent", "must be a number."),
            MinOrders: Number<int>("minOrders", "must be a whole number."),
            MaxOrders: Number<int>("maxOrders", "must be a whole number."),
            LastOrderFrom: Text("lastOrderFrom"),
            LastOrderTo: Text("lastOrderTo"),
            CreatedFrom: Text("createdFrom"),
            CreatedTo: Text("createdTo"),
            Search: Text("search"),
            Ordering: Text("ordering"),
            Page: Number<int>("page", "must be a whole number.") ?? 1,
            PageSize: Number<int>("pageSize", "must be a whole number.") ?? 50,
            Count: Text("count"));
        foreach (var error in validator.Validate(query).Errors)
            errors.Add((JsonNamingPolicy.CamelCase.ConvertName(error.PropertyName), error.ErrorMessage));
        return new CustomerListForm(query, errors);
    }

    // The filter as a query string ("?search=...&category=vip"), for the table's page links and
    // the CSV link; extra parameters (page, count) are appended as given.
    public string QueryString(params (string Name, string? Value)[] extra)
    {
        var q = Query;
        var pairs = new List<(string, string?)>
        {
            ("search", q.Search), ("city", q.City),
            ("minSpent", q.MinSpent?.ToString(CultureInfo.InvariantCulture)), ("maxSpent", q.MaxSpent?.ToString(CultureInfo.InvariantCulture)),
            ("minOrders", q.MinOrders?.ToString(CultureInfo.InvariantCulture)), ("maxOrders", q.MaxOrders?.ToString(CultureInfo.InvariantCulture)),
            ("lastOrderFrom", q.LastOrderFrom), ("lastOrderTo", q.LastOrderTo),
            ("createdFrom", q.CreatedFrom), ("createdTo", q.CreatedTo), ("ordering", q.Ordering),
        };
        pairs.InsertRange(1, (q.Category ?? []).Select(c => ("category", (string?)c)));
        pairs.AddRange(extra);
        var given = pairs.Where(p => !string.IsNullOrEmpty(p.Item2))
            .Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}").ToList();
        return given.Count == 0 ? "" : "?" + string.Join("&", given);
    }
}
