using System.Diagnostics;
using Crm.Api.Auth;
using Crm.Api.Infrastructure;
using Crm.Api.JobStatus;
using Crm.Api.Orders;
using Crm.Api.Reads;
using Crm.Jobs.Data;
using Crm.Jobs.Sync;
using Hangfire.States;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Customers;

// The original Django CRM's routes, for clients and scripts written against it: its paths,
// its snake_case bodies, and the answer once the job has run rather than a job to follow.
// Deprecated: new clients use /api/sync, /api/jobs/{id} and /api/customers/{id}/orders.
public static class OriginalRoutesEndpoints
{
    public const int DefaultWaitSeconds = 30;
    public const int MaxWaitSeconds = 300;

    // The original's history was unpaged; the newest orders up to this many keep one answer bounded.
    public const int HistoryLimit = 1_000;

    public static RouteGroupBuilder MapOriginalRoutes(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/customers")
            .WithTags("Original routes")
            .AddEndpointFilterFactory(ValidationFilter.Create)
            .ProducesValidationProblem()
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.Deprecated = true;
                return Task.CompletedTask;
            });

        // The original's spellings, with the trailing slash. Routing serves them without it too,
        // and the OpenAPI document lists them without it (as Redocly's rules want).
        group.MapPost("/sync_from_orders/", SyncFromOrders).WithName("OriginalSyncFromOrders")
            .WithSummary("The original's full sync: the default sync's counts once it has run")
            .WithDescription("The original's path: /api/customers/sync_from_orders/. Enqueues the default full sync (or joins " +
                             $"the one queued or running) and waits up to `wait` seconds (default {DefaultWaitSeconds}): 200 with " +
                             "the counts, 202 with the job to follow if it is still running, 500 with the error if its attempt " +
                             "failed (Hangfire retries it); 429 with Retry-After past the limit of waiting requests (Crm:RateLimit:MaxWaitsPerKey, " +
                             "MaxWaits). New clients: POST /api/sync.")
            .Produces<OriginalError>(StatusCodes.Status500InternalServerError);
        group.MapGet("/{id}/orders_history/", OrdersHistory).WithName("OriginalOrdersHistory")
            .WithSummary("The original's order history: a customer's orders, newest first, unpaged")
            .WithDescription("The original's path: /api/customers/{id}/orders_history/. " +
                             $"The newest {HistoryLimit} orders at most. New clients: GET /api/customers/{{id}}/orders (paged).");
        group.MapPost("/{id}/update_stats/", UpdateStats).WithName("OriginalUpdateStats")
            .WithSummary("The original's statistics update: the customer once its statistics are recomputed")
            .WithDescription("The original's path: /api/customers/{id}/update_stats/. Enqueues the customer's statistics job " +
                             $"and waits up to `wait` seconds (default {DefaultWaitSeconds}): 200 with the customer, 202 with the " +
                             "job to follow if it is still running, 500 with the error if its attempt failed (Hangfire retries " +
                             "it); 429 with Retry-After past the limit of waiting requests (Crm:RateLimit:MaxWaitsPerKey, MaxWaits). " +
                             "New clients: POST /api/customers/{id}/update-stats.")
            .Produces<OriginalError>(StatusCodes.Status500InternalServerError);
        return group;
    }

    private static async Task<Results<Ok<OriginalSyncResult>, Accepted<OriginalJobAccepted>, JsonHttpResult<OriginalError>, ProblemHttpResult>> SyncFromOrders(
        [AsParameters] WaitQuery query, SyncScheduler scheduler, JobQueries jobs, WaitSlots slots, HttpContext http, CancellationToken ct)
    {
        using var slot = TakeSlot(slots, query, http);
        if (query.Wait > 0 && slot is null)
            return TooManyWaits(http, slots);
        var jobId = await scheduler.EnqueueFullSyncAsync(SyncMode.Default, ct);
        var waited = await WaitForJobAsync(jobs, jobId, query.Wait, ct);
        if (waited.Error is not null)
            return Failed(jobId, waited.Error);
        if (!waited.Succeeded)
            return Running(jobId);

        // A full sync records its run before it succeeds (SyncEngine); a missing row is a broken invariant, a 500.
        var counts = await jobs.SyncCountsAsync(jobId, ct)
            ?? throw new InvalidOperationException($"Full sync job {jobId} succeeded without a run row.");
        return TypedResults.Ok(new OriginalSyncResult(
            "success", counts.CreatedCount, counts.UpdatedCount, counts.ErrorCount, counts.TotalCustomers, jobId));
    }

    private static async Task<Results<Ok<List<OriginalOrder>>, NotFound>> OrdersHistory(
        long id, [FromKeyedServices(ReadSource.Key)] CustomerQueries customers, [FromKeyedServices(ReadSource.Key)] OrderQueries orders,
        CancellationToken ct)
    {
        var phones = await customers.PhonesOfAsync(id, ct);
        if (phones is null)
            return TypedResults.NotFound();
        // The query of GET /api/customers/{id}/orders: a range scan of the phone's index, newest first.
        var history = OrderQueries.NewestFirst(orders.OfCustomer(phones));
        return TypedResults.Ok(await history.Take(HistoryLimit).Select(OriginalOrder.Projection).ToListAsync(ct));
    }

    private static async Task<Results<Ok<OriginalCustomer>, Accepted<OriginalJobAccepted>, JsonHttpResult<OriginalError>, NotFound, ProblemHttpResult>> UpdateStats(
        long id, [AsParameters] WaitQuery query, SyncScheduler scheduler, JobQueries jobs, CustomerQueries customers, CrmDbContext db,
        WaitSlots slots, HttpContext http, CancellationToken ct)
    {
        if (!await customers.ExistsAsync(id, ct))
            return TypedResults.NotFound();
        using var slot = TakeSlot(slots, query, http);
        if (query.Wait > 0 && slot is null)
            return TooManyWaits(http, slots);
        var jobId = scheduler.EnqueueStatistics(id);
        var waited = await WaitForJobAsync(jobs, jobId, query.Wait, ct);
        if (waited.Error is not null)
            return Failed(jobId, waited.Error);
        if (!waited.Succeeded)
            return Running(jobId);

        var customer = await db.Customers.AsNoTracking().Where(c => c.Id == id).Select(OriginalCustomer.Projection).FirstOrDefaultAsync(ct);
        return customer is null ? TypedResults.NotFound() : TypedResults.Ok(customer);
    }

    // A wait holds a slot (WaitSlots) from before its job is enqueued to its answer; a refused
    // request enqueues nothing. Without a wait there is nothing to hold.
    private static IDisposable? TakeSlot(WaitSlots slots, WaitQuery query, HttpContext http) =>
        query.Wait > 0 ? slots.TryTake(Caller.NameOf(http.User)) : null;

    private static ProblemHttpResult TooManyWaits(HttpContext http, WaitSlots slots)
    {
        http.Response.Headers.RetryAfter = WaitSlots.RetryAfterSeconds.ToString();
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many waiting requests",
            detail: $"At most {slots.MaxPerKey} requests per key and {slots.Max} in all wait for their job at once. " +
                    "Retry after Retry-After seconds, or send wait=0 and follow the job at its statusUrl.");
    }

    private static Accepted<OriginalJobAccepted> Running(string jobId) =>
        TypedResults.Accepted($"/api/jobs/{jobId}", new OriginalJobAccepted(jobId, $"/api/jobs/{jobId}"));

    // The original answered a failure 500 {"status":"error","error":...} and its clients look for
    // both, so both are kept, though this request did not fail (the job did; Hangfire retries
    // it). The body is our own, so neither the exception handler nor the status code pages touch it.
    private static JsonHttpResult<OriginalError> Failed(string jobId, string error) =>
        TypedResults.Json(new OriginalError("error", error, jobId, $"/api/jobs/{jobId}"),
            statusCode: StatusCodes.Status500InternalServerError);

    // Error is set when the job failed; Succeeded false without an error: still running when the wait ended.
    private sealed record Waited(bool Succeeded, string? Error);

    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromMilliseconds(250);

    // Polls Hangfire's storage, quickly at first (a customer's job takes milliseconds), then four
    // times a second. No connection or thread is held in between (Task.Delay; the blocking
    // storage read runs on a pool thread, JobQueries.ReadAsync), so a long wait costs the pools
    // nothing; a client that goes away (ct) ends the wait and frees its slot.
    // Wall-clock time: the app's TimeProvider may be a test's fake clock.
    private static async Task<Waited> WaitForJobAsync(JobQueries jobs, string jobId, int seconds, CancellationToken ct)
    {
        var limit = TimeSpan.FromSeconds(seconds);
        var waiting = Stopwatch.StartNew();
        for (var poll = FirstPoll; ; poll = Min(poll * 2, MaxPoll))
        {
            var left = limit - waiting.Elapsed;
            if (left <= TimeSpan.Zero)
                return new Waited(false, null);
            await Task.Delay(Min(poll, left), ct);
            if (Outcome(await jobs.ReadAsync(jobId, ct)) is { } outcome)
                return outcome;
        }
    }

    // Hangfire's state names are static fields, not constants: no switch over them.
    private static Waited? Outcome(StoredJob? job)
    {
        if (job is null)
            return new Waited(false, "The job no longer exists.");
        var state = job.StateName;
        if (state == SucceededState.StateName)
            return new Waited(true, null);
        if (state == FailedState.StateName || state == DeletedState.StateName)
            return new Waited(false, job.Reason ?? $"The job is {state.ToLowerInvariant()}.");
        // An attempt failed and Hangfire retries it after a delay: the original answered the
        // attempt, with an error; the statusUrl follows the retries.
        if (state == ScheduledState.StateName && job.RetryCount > 0)
            return new Waited(false, job.Reason ?? "The job failed; a retry is scheduled.");
        return null;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
