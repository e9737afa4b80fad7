namespace Crm.Jobs.Ledger;

// One change to one customer (table customer_changes), written by the trigger on customers
// (migration ChangeLedger) in the transaction of the change itself, whoever makes it.
public class CustomerChange
{
    // Field names besides the customer's contact fields (name, phone, email, city, address, notes).
    public const string Created = "created";
    public const string Deleted = "deleted";
    public const string Category = "category";
    // Total orders, total spent, average order and last order date, as one change.
    public const string Statistics = "statistics";
    // Customers merged into this one (CustomerMerge): the old value is what the sources and the
    // target's fields were, which an unmerge restores; the new value {mergeId, targetId, sourceIds}.
    public const string Merged = "merged";
    // That merge undone: {mergeId, targetId, sourceIds} as the new value.
    public const string Unmerged = "unmerged";

    // Every field a ledger row may name (what the trigger in migration ChangeLedger writes).
    public static readonly string[] Fields =
        [Created, Deleted, "name", "phone", "email", "city", "address", "notes", Category, Statistics, Merged, Unmerged];

    // The fields a sync may change that a revert puts back (statistics and category are
    // recomputed from orders, never reverted).
    public static readonly string[] ContactFields = ["name", "email", "city", "address"];

    // The fields whose values are personal data (docs/PRIVACY.md): created and deleted rows
    // carry the phone and the name. An erase and the retention of personal values null
    // their old and new values; the field, time, source and run stay.
    // A merged row holds the sources' fields, phones and notes.
    public static readonly string[] PersonalFields = [Created, Deleted, "name", "phone", "email", "city", "address", "notes", Merged];

    // A personal field's change whose values were nulled. A change never has both values null
    // otherwise: a field changes from or to a value, a created or deleted row names the customer.
    public static bool IsRedacted(string field, string? oldValue, string? newValue) =>
        oldValue is null && newValue is null && PersonalFields.Contains(field);

    public long Id { get; set; }
    // No foreign key: the ledger outlives a deleted customer.
    public long CustomerId { get; set; }
    public required string Field { get; set; }
    // JSON: a string for a text field, the category's text, an object for statistics,
    // {phone, name, category} for created and deleted rows.
    public string? OldValue { get; set; }
    public string? NewValue { get; set; }
    // For a category change: the rule that decided, the statistics and the thresholds.
    public string? Reason { get; set; }
    public DateTime ChangedAt { get; set; }
    // sync:<mode>, recalculate, api:<key name>, revert, sql (a write outside the service).
    public required string Source { get; set; }
    public long? RunId { get; set; }
}
