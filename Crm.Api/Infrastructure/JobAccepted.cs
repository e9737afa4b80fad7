namespace Crm.Api.Infrastructure;

public sealed record JobAccepted(string JobId, string StatusUrl)
{
    public static Microsoft.AspNetCore.Http.HttpResults.Accepted<JobAccepted> For(string jobId) =>
        TypedResults.Accepted($"/api/jobs/{jobId}", new JobAccepted(jobId, $"/api/jobs/{jobId}"));
}
