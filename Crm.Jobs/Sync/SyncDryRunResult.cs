using Crm.Jobs.Ledger;

namespace Crm.Jobs.Sync;

// A dry run's result: the counts the real run would report, its changes per ledger field,
// and its first changes.
public sealed record SyncDryRunResult(
    long RunId, bool DryRun, int CreatedCount, int UpdatedCount, int UnchangedCount, int SkippedCount, int ErrorCount,
    int TotalCustomers, long DurationMs, IReadOnlyDictionary<string, int> Changes, IReadOnlyList<ChangeSample> Sample);
