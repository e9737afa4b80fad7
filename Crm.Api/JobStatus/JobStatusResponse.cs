namespace Crm.Api.JobStatus;

public sealed record JobStatusResponse(
    string JobId, string State, DateTime? CreatedAt, int RetryCount, string? Reason, object? Result);
