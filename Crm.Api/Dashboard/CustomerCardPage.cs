using System.Globalization;
using System.Text;
using Crm.Api.Auth;
using Crm.Api.Customers;
using Crm.Api.Infrastructure;
using Crm.Api.Orders;
using Crm.Api.Reads;
using Crm.Jobs.Data;
using FluentValidation;
using Hangfire.Dashboard.Pages;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Api.Dashboard;

// One customer as GET /api/customers/{id}, its orders, timeline and notes show it. Operators
// (and admins) add a note with the card's form, which posts to NotesRoute with the page's
// antiforgery token (Hangfire's middleware refuses a post without it, 403); readers see the
// card without the form, and a reader's post answers 403.
public sealed class CustomerCardPage(long id, bool posting) : DeskPage
{
    // At most 18 digits, so the id always fits a long.
    public const string Route = CustomersPage.Path + @"/(?<id>\d{1,18})";
    public const string NotesRoute = Route + "/notes";
    private const int NewestOrders = 20;
    private const int NewestTimeline = 50;

    public static string PathOf(long id) => $"{CustomersPage.Path}/{id}";

    private bool MayWrite => User.IsInRole(CrmRoles.Operator);

    public override void Execute()
    {
        Layout = new LayoutPage($"Customer {id}");
        var typed = "";
        IReadOnlyList<string> errors = [];
        if (posting)
        {
            if (AddNote() is not { } refused)
                return;
            (typed, errors) = refused;
        }

        var customers = ReadService<CustomerQueries>();
        if (customers.DetailsAsync(id, Http.RequestAborted).GetAwaiter().GetResult() is not { } found)
        {
            Http.Response.StatusCode = StatusCodes.Status404NotFound;
            WriteLiteral($"""
                <h1 class="page-header">Customer {id}</h1>
                <p id="customer-missing">Customer {id} does not exist (or was deleted, merged or erased).</p>
                <p><a href="{Url.To(CustomersPage.Path)}">All customers</a></p>
                """);
            return;
        }
        var c = found.Customer;
        var phones = c.Phones ?? [c.Phone];
        var notes = customers.NotesOfAsync(id, Http.RequestAborted).GetAwaiter().GetResult() ?? [];
        WriteLiteral($"""
            <div class="row"><div class="col-md-12">
            <h1 class="page-header" id="customer-name">{H(c.Name)}</h1>
            <p><a href="{Url.To(CustomersPage.Path)}">All customers</a> · customer {c.Id}</p>
            <div class="row">
            <div class="col-md-6">{Contacts(c, phones)}</div>
            <div class="col-md-6">{StatisticsOf(c)}</div>
            </div>
            <h3>Notes</h3>
            {NoteForm(typed, errors)}
            {Notes(notes)}
            """);
        WriteOrders(phones);
        WriteTimeline();
        WriteLiteral("</div></div>");
    }

    private string Contacts(CustomerResponse c, IReadOnlyList<string> phones)
    {
        var phoneList = string.Concat(phones.Select((p, i) => $"<li>{H(p)}{(i == 0 ? " <span class=\"label label-default\">primary</span>" : "")}</li>"));
        return $"""
            <table class="table table-condensed" id="customer-contacts"><tbody>
            <tr><th>Name</th><td>{H(c.Name)}</td></tr>
            <tr><th>Phones</th><td><ul class="list-unstyled" id="customer-phones">{phoneList}</ul></td></tr>
            <tr><th>E-mail</th><td>{H(c.Email)}</td></tr>
            <tr><th>City</th><td>{H(c.City)}</td></tr>
            <tr><th>Address</th><td>{H(c.Address)}</td></tr>
            <tr><th>Remarks</th><td style="white-space: pre-wrap">{H(c.Notes)}</td></tr>
            <tr><th>{Zoned("Created")}</th><td>{Time.Format(c.CreatedAt)}</td></tr>
            <tr><th>{Zoned("Updated")}</th><td>{Time.Format(c.UpdatedAt)}</td></tr>
            </tbody></table>
            """;
    }

    private string StatisticsOf(CustomerResponse c) => $"""
        <table class="table table-condensed" id="customer-statistics"><tbody>
        <tr><th>Category</th><td><span class="label label-primary" id="customer-category">{EnumText.ToText(c.Category)}</span>
        <span id="customer-category-reason">{H(c.CategoryReason?.Text)}</span></td></tr>
        <tr><th>Orders</th><td>{c.TotalOrders}</td></tr>
        <tr><th>Spent</th><td>{Money(c.TotalSpent)}</td></tr>
        <tr><th>Average order</th><td>{Money(c.AverageOrder)}</td></tr>
        <tr><th>{Zoned("Last order")}</th><td>{Time.Format(c.LastOrderDate, "never")}</td></tr>
        </tbody></table>
        """;

    // The form for operators; errors are NoteRequestValidator's, the text typed kept.
    private string NoteForm(string typed, IReadOnlyList<string> errors)
    {
        if (!MayWrite)
            return """<p id="note-form-readers">Adding notes needs an operator or admin key.</p>""";
        var token = Context.AntiforgeryToken is { } value
            ? $"""<input type="hidden" name="{H(Service<IOptions<AntiforgeryOptions>>().Value.FormFieldName)}" value="{H(value)}">"""
            : "";
        var problems = errors.Count == 0
            ? ""
            : $"""<div class="alert alert-danger" id="note-errors"><ul>{string.Concat(errors.Select(e => $"<li>{H(e)}</li>"))}</ul></div>""";
        return $"""
            {problems}
            <form method="post" action="{Url.To(PathOf(id) + "/notes")}" id="note-form">{token}
            <div class="form-group"><textarea class="form-control" name="note" id="note-text" rows="3">{H(typed)}</textarea></div>
            <button type="submit" class="btn btn-primary" id="note-add">Add note</button>
            </form>
            """;
    }

    private string Notes(List<NoteResponse> notes)
    {
        if (notes.Count == 0)
            return """<p id="customer-notes-none">No notes yet.</p>""";
        var items = string.Concat(notes.Select(n => $"""
            <li class="list-group-item"><div class="customer-note" style="white-space: pre-wrap">{H(n.Note)}</div>
            <small class="text-muted">{H(n.CreatedBy)} · {Time.Format(n.CreatedAt)}</small></li>
            """));
        return $"""<p>Times in {H(Time.ZoneName)}.</p><ul class="list-group" id="customer-notes">{items}</ul>""";
    }

    // The newest orders by every phone of the customer: GET /api/customers/{id}/orders' query.
    private void WriteOrders(IReadOnlyList<string> phones)
    {
        var orders = ReadService<OrderQueries>();
        var page = orders.NewestFirstAsync(orders.OfCustomer(phones), new PageQuery(1, NewestOrders), Http.RequestAborted)
            .GetAwaiter().GetResult();
        WriteLiteral($"<h3>Orders</h3><p id=\"customer-orders-count\">{Shown(page, "order")}</p>");
        if (page.Items.Count == 0)
            return;
        var rows = new StringBuilder();
        foreach (var o in page.Items)
        {
            rows.Append($"""
                <tr><td>{o.Id}</td><td>{Time.Format(o.CreatedAt)}</td><td>{EnumText.ToText(o.Status)}</td><td>{Money(o.TotalAmount)}</td>
                <td>{H(o.CustomerPhone)}</td><td>{H(o.DeliveryCity)}</td><td>{H(o.DeliveryAddress)}</td><td>{EnumText.ToText(o.Source)}</td></tr>
                """);
        }
        WriteLiteral($"""
            <div class="table-responsive"><table class="table table-striped" id="customer-orders">
            <thead><tr><th>Order</th><th>{Zoned("Created")}</th><th>Status</th><th>Amount</th><th>Phone</th><th>City</th><th>Address</th><th>Source</th></tr></thead>
            <tbody>{rows}</tbody></table></div>
            """);
    }

    // The newest of GET /api/customers/{id}/timeline: orders, notes and changes in one list.
    private void WriteTimeline()
    {
        var page = CustomerTimeline.PageAsync(id, new PageQuery(1, NewestTimeline), Service<ReadSource>().DataSource, Http.RequestAborted)
            .GetAwaiter().GetResult();
        if (page is null)
            return;
        WriteLiteral($"<h3>Timeline</h3><p id=\"customer-timeline-count\">{Shown(page, "event")}</p>");
        if (page.Items.Count == 0)
            return;
        var rows = new StringBuilder();
        foreach (var item in page.Items)
        {
            rows.Append($"""
                <tr><td>{Time.Format(item.At)}</td><td>{EnumText.ToText(item.Kind)}</td>
                <td style="white-space: pre-wrap">{H(item.Text)}</td><td>{H(item.Source)}</td></tr>
                """);
        }
        WriteLiteral($"""
            <div class="table-responsive"><table class="table table-striped" id="customer-timeline">
            <thead><tr><th>{Zoned("At")}</th><th>What</th><th>Details</th><th>Source</th></tr></thead>
            <tbody>{rows}</tbody></table></div>
            """);
    }

    // "3 orders", "the newest 20 of 57 orders", "the newest 20 of more than 1000 orders".
    private static string Shown<T>(PagedResponse<T> page, string noun)
    {
        if (page.TotalCountExact && page.TotalCount <= page.Items.Count)
            return Plural.Of(page.TotalCount, noun);
        var total = page.TotalCountExact ? page.TotalCount.ToString(CultureInfo.InvariantCulture) : $"more than {page.TotalCount}";
        return $"the newest {page.Items.Count} of {total} {noun}s";
    }

    private static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    // The note form's post: (the text typed, the errors) to show the card with, or null when
    // the answer is already set (added: 303 to the card; refused: 403, 405).
    private (string Typed, IReadOnlyList<string> Errors)? AddNote()
    {
        if (!HttpMethods.IsPost(Http.Request.Method))
        {
            Layout = null;
            Http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return null;
        }
        if (!MayWrite)
        {
            Http.Response.StatusCode = StatusCodes.Status403Forbidden;
            WriteLiteral("""<p id="note-forbidden">Adding notes needs an operator or admin key.</p>""");
            return null;
        }
        var text = Http.Request.ReadFormAsync(Http.RequestAborted).GetAwaiter().GetResult()["note"].ToString();
        var request = new NoteRequest(text);
        var result = Service<IValidator<NoteRequest>>().Validate(request);
        if (!result.IsValid)
        {
            Http.Response.StatusCode = StatusCodes.Status400BadRequest;
            return (text, result.Errors.Select(e => e.ErrorMessage).ToList());
        }
        var note = CustomerNotes.AddAsync(Service<CrmDbContext>(), id, text, User, Service<TimeProvider>(), Http.RequestAborted)
            .GetAwaiter().GetResult();
        if (note is null)
        {
            Http.Response.StatusCode = StatusCodes.Status404NotFound;
            WriteLiteral($"""<p id="customer-missing">Customer {id} does not exist (or was deleted, merged or erased).</p>""");
            return null;
        }
        // Post, then redirect: a reload of the card does not add the note again.
        Layout = null;
        Http.Response.StatusCode = StatusCodes.Status303SeeOther;
        Http.Response.Headers.Location = Url.To(PathOf(id)) + "#customer-notes";
        return null;
    }
}
