using Crm.Api.Infrastructure;
using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Api.Customers;

// Merging customers that are one person (docs/API.md, "Merging customers").
public static class CustomerMergesEndpoints
{
    public static RouteGroupBuilder MapCustomerMerges(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/customers/merge")
            .WithTags("Customers")
            .AddEndpointFilterFactory(ValidationFilter.Create)
            .ProducesValidationProblem();

        group.MapPost("/preview", Preview).WithName("PreviewCustomerMerge")
            .WithSummary("What merging the sources into the target would make: phones, contact fields and where each comes from, " +
                         "statistics, category with its reason, conflicting fields; writes nothing")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Ok<MergePreviewResponse>, ProblemHttpResult>> Preview(
        MergeRequest request, CrmDbContext db, NpgsqlDataSource dataSource, IOptions<CategoryOptions> categories,
        IOptions<SyncOptions> sync, TimeProvider clock, CancellationToken ct)
    {
        var (preview, missing) = await MergePreview.ReadAsync(db, dataSource, request.TargetId!.Value, request.SourceIds!,
            categories.Value, sync.Value, clock.GetUtcNow().UtcDateTime, ct);
        return preview is not null ? TypedResults.Ok(preview) : NotFound(missing);
    }

    private static ProblemHttpResult NotFound(long[] missing) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "No such customer",
        detail: $"Customer{(missing.Length == 1 ? "" : "s")} {string.Join(", ", missing)} do{(missing.Length == 1 ? "es" : "")} not exist.",
        extensions: new Dictionary<string, object?> { ["missingIds"] = missing });
}
