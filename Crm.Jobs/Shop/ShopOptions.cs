using Crm.Jobs.Orders;

namespace Crm.Jobs.Shop;

// Crm:Shop: the shop's own database, followed by logical replication (ShopFollower).
// Nothing is followed while ConnectionString is empty.
public sealed class ShopOptions
{
    public const string Section = "Crm:Shop";

    public string? ConnectionString { get; set; }

    // The Django model's table, schema-qualified or not (then public).
    public string Table { get; set; } = "public.orders_order";

    public ShopColumns Columns { get; set; } = new();

    // The shop's status values and ours; configured entries add to (or replace) the defaults.
    public Dictionary<string, OrderStatus> Statuses { get; set; } = new(StringComparer.Ordinal)
    {
        ["new"] = OrderStatus.New,
        ["processing"] = OrderStatus.Processing,
        ["completed"] = OrderStatus.Completed,
        ["cancelled"] = OrderStatus.Cancelled,
    };

    public string Publication { get; set; } = "crm_shop_orders";
    public string Slot { get; set; } = "crm_shop_orders";

    // /health/ready turns Degraded while the slot holds more WAL than this (bytes).
    public long MaxLag { get; set; } = 64L * 1024 * 1024;

    // /health/ready turns Unhealthy while the slot keeps more of the shop's WAL than this (from
    // its restart_lsn, in any state): bytes, or a size as PostgreSQL writes one ("10GB").
    public string MaxRetainedWal { get; set; } = "10GB";

    public long MaxRetainedWalBytes => ByteSize.Parse(MaxRetainedWal) ?? throw new InvalidOperationException(
        $"Crm:Shop:MaxRetainedWal '{MaxRetainedWal}' is not a size.");

    // How often the follower reports its lag and state (and lets an idle slot advance).
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(5);

    // A follower's row silent for max(3 × StatusInterval, this) has no follower behind it any
    // more: GET /api/shop, the dashboard and readiness say reconnecting.
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromSeconds(30);

    // A shop transaction is held in memory up to this many changes (and rejected rows); a
    // bigger one is staged in slices of this size into the CRM transaction its commit applies.
    public int StageSliceRows { get; set; } = 10_000;

    // Reconnect delays double from one second up to this.
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    public bool Enabled => !string.IsNullOrWhiteSpace(ConnectionString);

    public (string Schema, string Name) QualifiedTable
    {
        get
        {
            var dot = Table.IndexOf('.');
            return dot < 0 ? ("public", Table) : (Table[..dot], Table[(dot + 1)..]);
        }
    }
}
