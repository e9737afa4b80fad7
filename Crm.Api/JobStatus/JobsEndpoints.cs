using System.Security.Claims;
using System.Text.Json.Nodes;
using Crm.Api.Auth;
using Hangfire.States;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Crm.Api.JobStatus;

public static class JobsEndpoints
{
    public static RouteGroupBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/jobs").WithTags("Jobs");
        group.MapGet("/{jobId}", GetJob).WithName("GetJob")
            .WithSummary("A job's state, retries and, once it succeeded, its result (a sync's counts)")
            .WithDescription("A webhook or ledger job's details are for admin keys: other keys get 403.")
            .ProducesProblem(StatusCodes.Status403Forbidden);
        return group;
    }

    private static async Task<Results<Ok<JobStatusResponse>, NotFound, ProblemHttpResult>> GetJob(
        string jobId, JobQueries jobs, ClaimsPrincipal user, CancellationToken ct)
    {
        // Hangfire's PostgreSQL ids are numbers; anything else cannot be a job.
        if (!long.TryParse(jobId, out _))
            return TypedResults.NotFound();

        var stored = await jobs.ReadAsync(jobId, ct);
        if (stored is null)
            return TypedResults.NotFound();
        if (AdminOnlyJobs.Includes(stored.Job) && !user.IsInRole(CrmRoles.Admin))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "The details of webhook and ledger jobs are for admin keys.");
        }

        object? result = null;
        if (stored.StateName == SucceededState.StateName)
        {
            // A sync's counts come from its run row; other jobs report what they returned.
            result = await jobs.SyncCountsAsync(jobId, ct);
            if (result is null && stored.State?.Data.TryGetValue("Result", out var returned) == true && !string.IsNullOrEmpty(returned))
                result = JsonNode.Parse(returned);
        }

        var job = stored.Job;
        var createdAt = job.CreatedAt == default ? (DateTime?)null : DateTime.SpecifyKind(job.CreatedAt, DateTimeKind.Utc);
        return TypedResults.Ok(new JobStatusResponse(jobId, stored.StateName, createdAt, stored.RetryCount, stored.Reason, result));
    }
}
