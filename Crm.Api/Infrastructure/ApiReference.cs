using Crm.Api.Auth;
using Crm.Api.Customers;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace Crm.Api.Infrastructure;

// The OpenAPI document (/openapi/v1.json) and Scalar's reference of it (/scalar).
public static class ApiReference
{
    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Customers"] = "Customers kept true to their orders: search, edit, notes, order history, a timeline of orders, notes " +
                        "and changes, and why a customer is in its category. The phone (E.164) is a customer's identity.",
        ["Segments"] = "Saved segments: a name for a filter of GET /api/customers, counted and listed anew on every read " +
                       "(paged or as CSV); never search text.",
        ["Orders"] = "The shop's orders, one at a time or imported in bulk (NDJSON or CSV); each write brings its customer up to date through a job.",
        ["Sync"] = "Full syncs of the customers from the orders (or their dry runs), the history of every sync run with its changes, " +
                   "the revert of a run, and the customers the database refused to write.",
        ["Jobs"] = "The state and result of a background job, by the id that a write or a trigger answered.",
        ["Categories"] = "Customers per category (new, regular, vip, inactive), the recalculation of the categories, " +
                         "and a preview of the counts other thresholds would give.",
        ["Shop"] = "The follower of the shop's own database (logical replication): its state, lag and the shop rows it skipped as invalid.",
        ["Webhooks"] = "Signed webhooks (Standard Webhooks) for customer and sync events: subscriptions (admin), their secrets, " +
                       "a test event and every delivery attempt.",
        ["Privacy"] = "A person's data (admin): export everything held about a phone or a customer, erase it with a tombstone " +
                      "that keeps the person's past orders out, and the erase receipts.",
        ["Original routes"] = "Deprecated: the original Django CRM's routes and snake_case bodies, for clients written against it. " +
                              "Their POSTs wait for the job and answer its outcome; new clients follow the job at /api/jobs/{id}.",
    };

    public static IServiceCollection AddCrmOpenApi(this IServiceCollection services) => services.AddOpenApi(options => options
        .AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "crm-minimal API";
            document.Info.Description = "Orders in, customers out: a shop's CRM kept true to its orders by Hangfire jobs on PostgreSQL.";
            // The project publishes no license: its code and this API are not licensed to anyone else.
            document.Info.License = new OpenApiLicense { Name = "Proprietary", Identifier = "LicenseRef-Proprietary" };
            foreach (var tag in document.Tags ?? Enumerable.Empty<OpenApiTag>())
                tag.Description ??= TagDescriptions.GetValueOrDefault(tag.Name ?? "");
            // The server is the address the document was fetched from; without the slash, base URL + path is the route.
            foreach (var server in document.Servers ?? [])
                server.Url = server.Url?.TrimEnd('/');
            return Task.CompletedTask;
        })
        .AddDocumentTransformer<OpenApiSecurity>()
        .AddOperationTransformer<OpenApiSecurity>()
        .AddOperationTransformer(CustomerCsvResult.DescribeAsync));

    // An internal reference: nothing on the page sends the document, the key or the user to a third
    // party (no AI chat, MCP, hosted client, SDK generator, deploy or share links, telemetry, CDN fonts).
    // Without keys (Development only) no request needs one: the page asks for none.
    public static IEndpointConventionBuilder MapCrmApiReference(this IEndpointRouteBuilder app)
    {
        var keysDisabled = app.ServiceProvider.GetRequiredService<ApiKeyStore>().Disabled;
        return app.MapScalarApiReference(options =>
        {
            options
                .WithTitle("crm-minimal API")
                .HideDeveloperTools()
                .HideClientButton()
                .DisableAgent()
                .DisableMcp()
                .DisableTelemetry()
                .DisableDefaultFonts();
            if (!keysDisabled)
                options.AddPreferredSecuritySchemes([ApiKeyAuthenticationHandler.SchemeName]);
        });
    }
}
