using System.Globalization;
using System.Text;
using Crm.Api.Customers;
using Crm.Api.Infrastructure;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Phones;
using FluentValidation;
using Hangfire.Dashboard.Pages;

namespace Crm.Api.Dashboard;

// The operator's desk: the customers GET /api/customers lists, with its search and filters
// as a GET form, a page at a time, each linked to its card (CustomerCardPage), and the
// whole segment as CSV (CustomersCsvDispatcher). A bad filter answers 400 with the
// validator's messages, each naming its parameter.
public sealed class CustomersPage : DeskPage
{
    public const string Path = "/customers";

    public override void Execute()
    {
        Layout = new LayoutPage("Customers");
        var form = CustomerListForm.Read(Http.Request, Service<IValidator<CustomerListQuery>>());
        WriteLiteral($"""
            <div class="row"><div class="col-md-12">
            <h1 class="page-header">Customers</h1>
            {CategoryPicture()}
            {Form(form.Query)}
            """);
        if (form.IsValid)
            WriteCustomers(form);
        else
            WriteErrors(form);
        WriteLiteral("</div></div>");
    }

    // Customers per category over the last 90 days, on the page as it opens (no search, no
    // filter, first page): today's counts read the whole customers table once, which a search
    // typed and sent again and again should not pay for.
    private string CategoryPicture() =>
        CustomerListForm.Filters.Any(f => Http.Request.Query.ContainsKey(f)) || Http.Request.Query.ContainsKey("page")
            ? ""
            : DashboardPictures.CustomersPerCategory(Http.RequestServices);

    private string Form(CustomerListQuery q)
    {
        string Box(string name, string label, string? value, string type = "text", string extra = "") => $"""
            <div class="form-group"><label for="filter-{name}">{label}</label>
            <input class="form-control" type="{type}" id="filter-{name}" name="{name}" value="{H(value)}"{extra}></div>
            """;
        string Number(decimal? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

        var chosen = q.Category ?? [];
        var categories = string.Concat(Enum.GetValues<CustomerCategory>().Select(EnumText.ToText).Select(c => $"""
            <label class="checkbox-inline"><input type="checkbox" name="category" value="{c}"{(chosen.Contains(c) ? " checked" : "")}> {c}</label>
            """));
        var orderings = new StringBuilder($"""<option value="">newest first (-{CustomerOrdering.Default.TrimStart('-')})</option>""");
        foreach (var name in CustomerOrdering.Names)
        {
            foreach (var value in new[] { name, "-" + name })
                orderings.Append($"""<option value="{value}"{(q.Ordering == value ? " selected" : "")}>{value}</option>""");
        }
        const string day = """ placeholder="2026-11-01 (UTC)" """;
        return $"""
            <form method="get" action="{Url.To(Path)}" id="customer-filter" class="form-inline" style="margin-bottom: 1em">
            <div class="form-group"><input class="form-control" type="search" id="customer-search" name="search" size="40"
              placeholder="Name, e-mail or phone; words in any order" value="{H(q.Search)}"></div>
            <button type="submit" class="btn btn-primary" id="customer-find">Find</button>
            <p style="margin-top: .5em">Category: {categories}</p>
            {Box("city", "City", q.City)}
            {Box("minSpent", "Spent from", Number(q.MinSpent), "text", " size=\"8\"")}
            {Box("maxSpent", "to", Number(q.MaxSpent), "text", " size=\"8\"")}
            {Box("minOrders", "Orders from", Number(q.MinOrders), "text", " size=\"5\"")}
            {Box("maxOrders", "to", Number(q.MaxOrders), "text", " size=\"5\"")}
            <br>
            {Box("lastOrderFrom", "Last order from", q.LastOrderFrom, "text", day)}
            {Box("lastOrderTo", "to", q.LastOrderTo, "text", day)}
            {Box("createdFrom", "Created from", q.CreatedFrom, "text", day)}
            {Box("createdTo", "to", q.CreatedTo, "text", day)}
            <div class="form-group"><label for="filter-ordering">Order by</label>
            <select class="form-control" id="filter-ordering" name="ordering">{orderings}</select></div>
            </form>
            """;
    }

    private void WriteErrors(CustomerListForm form)
    {
        Http.Response.StatusCode = StatusCodes.Status400BadRequest;
        WriteLiteral($"""
            <div class="alert alert-danger" id="customer-filter-errors"><p>The filter has a bad value:</p><ul>
            {string.Concat(form.Errors.Select(e => $"""<li data-field="{H(e.Field)}">{H(e.Message)}</li>"""))}
            </ul></div>
            """);
    }

    private void WriteCustomers(CustomerListForm form)
    {
        var query = form.Query;
        var db = ReadService<CrmDbContext>();
        // Exactly what GET /api/customers reads: the same segment, order, page and count (up to
        // PagingRules.MaxCount unless count=exact), so the page and the API agree.
        var customers = CustomerFilters.Segment(db, query, Service<PhoneNormalizer>(), Service<TimeProvider>().GetUtcNow().UtcDateTime);
        var page = CustomerFilters.PageAsync(customers, db, query, Http.RequestAborted)
            .GetAwaiter().GetResult();

        var count = page.TotalCountExact
            ? Plural.Of(page.TotalCount, "customer")
            : $"""more than {page.TotalCount} customers (<a id="customers-count-exact" href="{Url.To(Path) + form.QueryString(("count", PagingRules.ExactCount))}">count them all</a>)""";
        WriteLiteral($"""
            <p><span id="customers-count">{count}</span> ·
            <a id="customers-csv" href="{Url.To(CustomersCsvDispatcher.Path) + form.QueryString()}">CSV of all of them</a> (the whole segment, in this order)</p>
            """);
        if (page.Items.Count == 0)
        {
            WriteLiteral("""<p id="customers-none">No customer matches.</p>""");
            return;
        }
        var rows = new StringBuilder();
        foreach (var c in page.Items)
        {
            rows.Append($"""
                <tr><td><a class="customer-name" href="{Url.To(CustomerCardPage.PathOf(c.Id))}">{H(c.Name)}</a></td>
                <td>{H(c.Phone)}</td><td>{H(c.Email)}</td><td>{H(c.City)}</td><td>{EnumText.ToText(c.Category)}</td>
                <td>{c.TotalOrders}</td><td>{c.TotalSpent.ToString("0.00", CultureInfo.InvariantCulture)}</td>
                <td>{Time.Format(c.LastOrderDate, "never")}</td><td>{Time.Format(c.CreatedAt)}</td></tr>
                """);
        }
        WriteLiteral($"""
            <div class="table-responsive"><table class="table table-striped" id="customers">
            <thead><tr><th>Name</th><th>Phone</th><th>E-mail</th><th>City</th><th>Category</th><th>Orders</th><th>Spent</th>
            <th>{Zoned("Last order")}</th><th>{Zoned("Created")}</th></tr></thead>
            <tbody>{rows}</tbody></table></div>
            {Pager(form, page)}
            """);
    }

    // Previous and next pages, keeping the filter.
    private string Pager(CustomerListForm form, PagedResponse<CustomerResponse> page)
    {
        string Link(string id, int number, string text) =>
            $"""<a class="btn btn-default" id="{id}" href="{Url.To(Path) + form.QueryString(("page", number.ToString(CultureInfo.InvariantCulture)), ("pageSize", page.PageSize == 50 ? null : page.PageSize.ToString(CultureInfo.InvariantCulture)), ("count", form.Query.Count))}">{text}</a>""";
        var more = !page.TotalCountExact || (long)page.Page * page.PageSize < page.TotalCount;
        var links = new List<string>();
        if (page.Page > 1)
            links.Add(Link("customers-previous", page.Page - 1, "Previous"));
        var of = page.TotalCountExact ? $" of {Math.Max(1, (page.TotalCount + page.PageSize - 1) / page.PageSize)}" : "";
        links.Add($"""<span id="customers-page">Page {page.Page}{of}</span>""");
        if (more && page.Items.Count == page.PageSize)
            links.Add(Link("customers-next", page.Page + 1, "Next"));
        return $"""<p>{string.Join(" ", links)}</p>""";
    }
}
