namespace Crm.Jobs.Ledger;

public sealed record RevertResult(long RunId, int RevertedCount, int SkippedCount);
