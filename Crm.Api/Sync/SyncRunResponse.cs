using System.Text.Json;
using Crm.Jobs.Sync;

namespace Crm.Api.Sync;

public sealed record SyncRunResponse(
    long Id, string? JobId, SyncMode Mode, SyncRunStatus Status, DateTime StartedAt, DateTime? FinishedAt,
    int CreatedCount, int UpdatedCount, int UnchangedCount, int SkippedCount, int ErrorCount,
    int TotalCustomers, long DurationMs, string? Error, string? StatusUrl,
    bool DryRun, JsonElement? Changes, string? ChangesUrl, string? RevertJobId, DateTime? RevertedAt);
