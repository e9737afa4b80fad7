using Crm.Api.Infrastructure;
using Crm.Api.Reads;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Categories;

public static class CategoriesEndpoints
{
    public static RouteGroupBuilder MapCategories(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/categories")
            .WithTags("Categories")
            .AddEndpointFilterFactory(ValidationFilter.Create);
        group.MapGet("/", CountCustomers).WithName("CountCustomersPerCategory").WithSummary("Customers per category");
        group.MapPost("/recalculate", Recalculate).WithName("RecalculateCategories")
            .WithSummary("Enqueue the recalculation of every customer's category");
        group.MapPost("/preview", CategoryPreview.Preview).WithName("PreviewCategories")
            .WithSummary("Customers per category with other thresholds, and who would move where (nothing is written)")
            .ProducesValidationProblem();
        return group;
    }

    private static async Task<Ok<List<CategoryCount>>> CountCustomers([FromKeyedServices(ReadSource.Key)] CrmDbContext db, CancellationToken ct)
    {
        var counts = await db.Customers.GroupBy(c => c.Category)
            .Select(g => new { Category = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Category, g => g.Count, ct);
        return TypedResults.Ok(Enum.GetValues<CustomerCategory>()
            .Select(category => new CategoryCount(category, counts.GetValueOrDefault(category)))
            .ToList());
    }

    private static Accepted<JobAccepted> Recalculate(SyncScheduler scheduler) =>
        JobAccepted.For(scheduler.EnqueueRecalculation());
}
