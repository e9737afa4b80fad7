namespace Crm.Jobs.Ledger;

public sealed class LedgerOptions
{
    public const string Section = "Crm:Ledger";

    // Changes older than this many days are deleted by the recurring `prune-ledger` job.
    public int RetentionDays { get; set; } = 400;

    // The recurring `prune-ledger` job. Empty disables it.
    public string PruneCron { get; set; } = "30 3 * * *";
}
