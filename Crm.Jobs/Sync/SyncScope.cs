namespace Crm.Jobs.Sync;

// Which customers a sync run covers.
public abstract record SyncScope
{
    // Every phone in the orders, and every customer.
    public sealed record All : SyncScope;

    // The customers of these phones.
    public sealed record Phones(IReadOnlyList<string> Values) : SyncScope;

    // The customers whose auto-sync requests no finished sync has seen yet (bulk imports, the sweeper).
    public sealed record Pending : SyncScope;

    public static SyncScope Of(string phone) => new Phones([phone]);
}
