using System.Text.Json;
using System.Text.Json.Serialization;
using Crm.Api.Customers;
using Crm.Jobs.Data;

namespace Crm.Api.Segments;

// A saved segment's filter: the segment part of GET /api/customers' query (its filters and an
// ordering of its own), never its search (docs/PRIVACY.md). Search is a member only so that
// sending it is refused by name instead of as an unknown field.
public sealed record SegmentFilter(
    string[]? Category = null, string? City = null, decimal? MinSpent = null, decimal? MaxSpent = null,
    int? MinOrders = null, int? MaxOrders = null, string? LastOrderFrom = null, string? LastOrderTo = null,
    string? CreatedFrom = null, string? CreatedTo = null, string? Ordering = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Search = null)
{
    // The list query these filters are, with the list's defaults for everything else.
    public CustomerListQuery ToQuery() => new(
        Category, City, MinSpent, MaxSpent, MinOrders, MaxOrders, LastOrderFrom, LastOrderTo, CreatedFrom, CreatedTo,
        Ordering: Ordering);

    // Stored as the API's JSON without the filters left out: {"category":["vip"],"city":"Казань"}.
    private static readonly JsonSerializerOptions Stored = new(CrmJson.Options) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public string ToJson() => JsonSerializer.Serialize(this, Stored);

    public static SegmentFilter FromJson(string json) => JsonSerializer.Deserialize<SegmentFilter>(json, Stored)!;
}
