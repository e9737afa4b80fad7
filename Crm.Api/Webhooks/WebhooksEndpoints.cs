using System.Security.Cryptography;
using System.Text.Json;
using Crm.Api.Auth;
using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Crm.Jobs.Webhooks;
using Hangfire;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Webhooks;

// Subscriptions to the service's events, all admin: a subscription decides where customer
// data goes.
public static class WebhooksEndpoints
{
    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/webhooks")
            .WithTags("Webhooks")
            .WithMetadata(new AuthorizeAttribute { Roles = CrmRoles.Admin })
            .AddEndpointFilterFactory(ValidationFilter.Create)
            .ProducesValidationProblem();

        group.MapPost("/", Create).WithName("CreateWebhook")
            .WithSummary("Subscribe a URL to events; the answer carries the signing secret, shown only here and on rotation")
            .WithNoStore();
        group.MapGet("/", List).WithName("ListWebhooks").WithSummary("The subscriptions, with their state and pending events");
        group.MapGet("/{id}", Get).WithName("GetWebhook").WithSummary("One subscription (never its secret)");
        group.MapPatch("/{id}", Patch).WithName("UpdateWebhook")
            .WithSummary("Change a subscription's url, events, description or enabled; enabling clears a disabled reason");
        group.MapDelete("/{id}", Delete).WithName("DeleteWebhook")
            .WithSummary("Delete a subscription with its pending events and delivery history");
        group.MapPost("/{id}/rotate-secret", RotateSecret).WithName("RotateWebhookSecret")
            .WithSummary("A new signing secret; the old one keeps signing beside it for 24 h")
            .WithNoStore();
        group.MapPost("/{id}/test", SendTest).WithName("TestWebhook")
            .WithSummary("Send a webhook.test event to this subscription; answers the delivery job")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/{id}/replay", Replay).WithName("ReplayWebhook")
            .WithSummary("Send the events of a time window or a sync run again, as they were sent (same webhook-id and event ids); answers the job, whose result counts them")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/{id}/deliveries", ListDeliveries).WithName("ListWebhookDeliveries")
            .WithSummary("Every delivery attempt of the subscription, newest first");
        return group;
    }

    // whsec_ + base64 of 24 random bytes, as Standard Webhooks receivers expect a secret.
    private static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    private static async Task<Created<WebhookCreated>> Create(
        WebhookCreateRequest request, CrmDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var hook = new Webhook
        {
            Url = request.Url!,
            Events = request.Events!,
            Description = request.Description,
            Secret = NewSecret(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Webhooks.Add(hook);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/webhooks/{hook.Id}",
            new WebhookCreated(hook.Id, hook.Url, hook.Events, hook.Description, hook.Enabled, hook.Secret));
    }

    private static async Task<Ok<PagedResponse<WebhookSubscription>>> List(
        [AsParameters] WebhooksQuery query, WebhookQueries queries, CancellationToken ct) =>
        TypedResults.Ok(await queries.ListAsync(query, ct));

    private static async Task<Results<Ok<WebhookSubscription>, NotFound>> Get(long id, WebhookQueries queries, CancellationToken ct) =>
        await queries.FindAsync(id, ct) is { } hook ? TypedResults.Ok(hook) : TypedResults.NotFound();

    private static async Task<Results<Ok<WebhookSubscription>, NotFound>> Patch(
        long id, WebhookPatchRequest request, CrmDbContext db, WebhookQueries queries, WebhookDispatch dispatch, TimeProvider clock,
        CancellationToken ct)
    {
        var hook = await db.Webhooks.FindAsync([id], ct);
        if (hook is null)
            return TypedResults.NotFound();
        hook.Url = request.Url ?? hook.Url;
        hook.Events = request.Events ?? hook.Events;
        hook.Description = request.Description ?? hook.Description;
        var enabling = request.Enabled == true && !hook.Enabled;
        if (request.Enabled is { } enabled && enabled != hook.Enabled)
        {
            hook.Enabled = enabled;
            // A fresh start: the failing streak that disabled it is over.
            hook.DisabledReason = null;
            hook.FailingSince = null;
        }
        hook.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        // The events it kept while disabled go out now, not at its jobs' next retries.
        if (enabling)
        {
            await db.WebhookLanes.Where(l => l.WebhookId == id).ExecuteUpdateAsync(l => l.SetProperty(x => x.FailingSince, (DateTime?)null), ct);
            await dispatch.DeliverNowAsync(id, ct);
        }
        return TypedResults.Ok((await queries.FindAsync(id, ct))!);
    }

    private static async Task<Results<NoContent, NotFound>> Delete(long id, CrmDbContext db, CancellationToken ct) =>
        await db.Webhooks.Where(w => w.Id == id).ExecuteDeleteAsync(ct) == 1 ? TypedResults.NoContent() : TypedResults.NotFound();

    private static async Task<Results<Ok<WebhookSecretRotated>, NotFound>> RotateSecret(
        long id, CrmDbContext db, TimeProvider clock, CancellationToken ct)
    {
        var hook = await db.Webhooks.FindAsync([id], ct);
        if (hook is null)
            return TypedResults.NotFound();
        var now = clock.GetUtcNow().UtcDateTime;
        // Two secrets at most: a second rotation within 24 h retires the oldest at once.
        hook.PreviousSecret = hook.Secret;
        hook.PreviousSecretExpiresAt = now + WebhookOptions.SecretOverlap;
        hook.Secret = NewSecret();
        hook.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new WebhookSecretRotated(hook.Id, hook.Secret, hook.PreviousSecretExpiresAt.Value));
    }

    private static async Task<Results<Accepted<WebhookTestAccepted>, NotFound, ProblemHttpResult>> SendTest(
        long id, CrmDbContext db, WebhookDispatch dispatch, TimeProvider clock, CancellationToken ct)
    {
        var hook = await db.Webhooks.FindAsync([id], ct);
        if (hook is null)
            return TypedResults.NotFound();
        if (!hook.Enabled)
            return Disabled(hook);
        var test = new WebhookEvent
        {
            WebhookId = id,
            Type = WebhookEventTypes.Test,
            OccurredAt = clock.GetUtcNow().UtcDateTime,
            Data = JsonSerializer.Serialize(new { webhookId = id, message = "A test event from crm-minimal." }),
        };
        db.WebhookEvents.Add(test);
        await db.SaveChangesAsync(ct);
        var jobId = await dispatch.DispatchAsync(id, WebhookLanes.NoCustomer, ct);
        return TypedResults.Accepted($"/api/jobs/{jobId}", new WebhookTestAccepted($"evt_{test.Id}", jobId, $"/api/jobs/{jobId}"));
    }

    // A disabled subscription is sent nothing, not even a test or a replay.
    private static ProblemHttpResult Disabled(Webhook hook) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The subscription is disabled",
            detail: hook.DisabledReason ?? "Enable it (PATCH enabled: true) to send it events.");

    private static async Task<Results<Accepted<WebhookReplayAccepted>, NotFound, ProblemHttpResult>> Replay(
        long id, WebhookReplayRequest request, CrmDbContext db, IBackgroundJobClient jobs, CancellationToken ct)
    {
        var hook = await db.Webhooks.FindAsync([id], ct);
        if (hook is null)
            return TypedResults.NotFound();
        if (!hook.Enabled)
            return Disabled(hook);
        if (request.RunId is { } runId && !await db.SyncRuns.AnyAsync(r => r.Id == runId, ct))
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such sync run",
                detail: $"runId {runId} names no sync run.");
        var jobId = jobs.Enqueue<WebhookReplayJobs>(j => j.ReplayAsync(
            id, request.From.HasValue ? request.From.Value.UtcDateTime : null, request.To.HasValue ? request.To.Value.UtcDateTime : null,
            request.RunId, CancellationToken.None));
        return TypedResults.Accepted($"/api/jobs/{jobId}", new WebhookReplayAccepted(jobId, $"/api/jobs/{jobId}"));
    }

    private static async Task<Results<Ok<PagedResponse<WebhookDeliveryItem>>, NotFound>> ListDeliveries(
        long id, [AsParameters] WebhookDeliveriesQuery query, CrmDbContext db, CancellationToken ct)
    {
        if (!await db.Webhooks.AnyAsync(w => w.Id == id, ct))
            return TypedResults.NotFound();
        var deliveries = db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == id)
            .Join(db.WebhookMessages, d => d.MessageId, m => m.Id, (d, m) => new
            {
                d.Id,
                Item = new WebhookDeliveryItem(d.WebhookId, m.MessageId, d.Events, d.Attempt, d.State, d.ResponseStatus, d.Error,
                    d.DurationMs, d.At),
            });
        return TypedResults.Ok(await deliveries.ToPageAsync(db, query, d => d.OrderByDescending(x => x.Id), x => x.Item, ct));
    }
}
