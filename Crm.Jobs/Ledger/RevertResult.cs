namespace Crm.Jobs.Ledger;

// Field changes (one per customer and field) put back, kept because they changed since, and
// kept because the ledger no longer holds their values (redacted).
public sealed record RevertResult(long RunId, int RevertedCount, int SkippedCount, int RedactedCount);
