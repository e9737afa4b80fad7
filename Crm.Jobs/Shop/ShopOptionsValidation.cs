using System.Text.RegularExpressions;
using Crm.Jobs.Orders;
using Microsoft.Extensions.Options;

namespace Crm.Jobs.Shop;

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
        if (ByteSize.Parse(o.MaxRetainedWal) is not > 0)
            problems.Add($"Crm:Shop:MaxRetainedWal '{o.MaxRetainedWal}' must be a positive size: bytes, or a number with kB, MB, GB or TB (10GB).");
        if (o.StageSliceRows <= 0)
            problems.Add("Crm:Shop:StageSliceRows must be a positive number of rows.");
        if (o.StatusInterval <= TimeSpan.Zero || o.MaxReconnectDelay < TimeSpan.FromSeconds(1))
            problems.Add("Crm:Shop:StatusInterval must be positive and Crm:Shop:MaxReconnectDelay at least one second.");
        if (o.StaleAfter <= TimeSpan.Zero)
            problems.Add("Crm:Shop:StaleAfter must be positive.");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    [GeneratedRegex("^[a-z0-9_]{1,63}$")]
    private static partial Regex SlotName();
}
