using System.Text.RegularExpressions;
using Crm.Jobs.Orders;
using Microsoft.Extensions.Options;

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

    // How often the follower reports its lag and state (and lets an idle slot advance).
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(5);

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

// The shop's column for each of our order fields (defaults: the Django model's names).
public sealed class ShopColumns
{
    public string Id { get; set; } = "id";
    public string CustomerName { get; set; } = "customer_name";
    public string CustomerPhone { get; set; } = "customer_phone";
    public string CustomerEmail { get; set; } = "customer_email";
    public string DeliveryCity { get; set; } = "delivery_city";
    public string DeliveryAddress { get; set; } = "delivery_address";
    public string TotalAmount { get; set; } = "total_amount";
    public string Status { get; set; } = "status";
    public string CreatedAt { get; set; } = "created_at";

    // In OrderField order: the order the follower reads a row's values in.
    public string[] InFieldOrder() =>
        [Id, CustomerName, CustomerPhone, CustomerEmail, DeliveryCity, DeliveryAddress, TotalAmount, Status, CreatedAt];
}

// Checked at start, one line each; what needs the shop's database (the table, wal_level, the
// privilege) is checked by the follower when it connects.
public sealed partial class ShopOptionsValidation : IValidateOptions<ShopOptions>
{
    public ValidateOptionsResult Validate(string? name, ShopOptions o)
    {
        var problems = new List<string>();
        var (schema, table) = o.QualifiedTable;
        if (schema.Length == 0 || table.Length == 0 || table.Contains('.'))
            problems.Add($"Crm:Shop:Table '{o.Table}' must be a table name, optionally schema-qualified (public.orders_order).");
        foreach (var field in Enum.GetValues<OrderField>())
        {
            if (string.IsNullOrWhiteSpace(o.Columns.InFieldOrder()[(int)field]))
                problems.Add($"Crm:Shop:Columns:{field} must name a column.");
        }
        // PostgreSQL's own rule for slot names; publications are identifiers of up to 63 bytes.
        if (!SlotName().IsMatch(o.Slot))
            problems.Add($"Crm:Shop:Slot '{o.Slot}' may hold only lower-case letters, digits and underscores (at most 63).");
        if (string.IsNullOrWhiteSpace(o.Publication) || o.Publication.Length > 63)
            problems.Add($"Crm:Shop:Publication '{o.Publication}' must be 1 to 63 characters.");
        if (o.Statuses.Count == 0 || o.Statuses.Values.Any(s => !Enum.IsDefined(s)))
            problems.Add("Crm:Shop:Statuses must map the shop's statuses to new, processing, completed or cancelled.");
        if (o.MaxLag <= 0)
            problems.Add("Crm:Shop:MaxLag must be a positive number of bytes.");
        if (o.StatusInterval <= TimeSpan.Zero || o.MaxReconnectDelay < TimeSpan.FromSeconds(1))
            problems.Add("Crm:Shop:StatusInterval must be positive and Crm:Shop:MaxReconnectDelay at least one second.");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    [GeneratedRegex("^[a-z0-9_]{1,63}$")]
    private static partial Regex SlotName();
}
