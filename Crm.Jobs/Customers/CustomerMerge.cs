namespace Crm.Jobs.Customers;

// One merge of source customers into a target (POST /api/customers/merge, docs/API.md
// "Merging customers"). Ids only: what the sources were (their fields, phones and notes)
// is the old value of the ledger's `merged` row (LedgerId), a personal value kept, exported
// and erased like every other one of the ledger (docs/PRIVACY.md).
public class CustomerMerge
{
    public long Id { get; set; }
    public long TargetId { get; set; }
    public long[] SourceIds { get; set; } = [];
    public DateTime MergedAt { get; set; }
    // The ledger's source of the merge: api:<key name>.
    public required string MergedBy { get; set; }
    // The ledger row (customer_changes.id, field `merged`) an unmerge restores the sources from.
    public long LedgerId { get; set; }
    public DateTime? UnmergedAt { get; set; }
    public string? UnmergedBy { get; set; }
}
