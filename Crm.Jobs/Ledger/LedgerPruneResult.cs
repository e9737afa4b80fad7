namespace Crm.Jobs.Ledger;

// What a run of `prune-ledger` did: changes deleted, changes whose personal values it nulled.
public sealed record LedgerPruneResult(int PrunedCount, int RedactedCount);
