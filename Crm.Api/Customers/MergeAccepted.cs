namespace Crm.Api.Customers;

// A merge or unmerge done: its id, and the job that brings the customers' statistics and
// categories up to date (GET statusUrl).
public sealed record MergeAccepted(long MergeId, string JobId, string StatusUrl)
{
    public static Microsoft.AspNetCore.Http.HttpResults.Accepted<MergeAccepted> For(long mergeId, string jobId) =>
        TypedResults.Accepted($"/api/jobs/{jobId}", new MergeAccepted(mergeId, jobId, $"/api/jobs/{jobId}"));
}
