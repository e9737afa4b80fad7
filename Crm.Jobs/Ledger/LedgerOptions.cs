namespace Crm.Jobs.Ledger;

public sealed class LedgerOptions
{
    public const string Section = "Crm:Ledger";

    // Changes older than this many days are deleted by the recurring `prune-ledger` job.
    public int RetentionDays { get; set; } = 400;

    // The same job nulls the old and new values of personal fields (CustomerChange.PersonalFields)
    // older than this many days: the change stays (field, time, source, run), the data goes.
    public int PersonalValueRetentionDays { get; set; } = 90;

    // The recurring `prune-ledger` job. Empty disables it.
    public string PruneCron { get; set; } = "30 3 * * *";
}
