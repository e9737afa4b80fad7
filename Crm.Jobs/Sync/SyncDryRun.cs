using Crm.Jobs.Ledger;

namespace Crm.Jobs.Sync;

// What a dry run's transactions saw in the ledger before they rolled back.
internal sealed class SyncDryRun
{
    public long RunId { get; set; }
    public Dictionary<string, int> Changes { get; } = [];
    public List<ChangeSample> Sample { get; } = [];
}
