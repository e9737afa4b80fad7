using System.Globalization;
using System.Text.Json;
using Crm.Jobs.Data;
using FluentValidation;

namespace Crm.Jobs.Orders;

// An order's fields as text: their names, how a typed value must be written, and the one
// wording of a rejected order, shared by the NDJSON and CSV records and the shop's rows.
internal static class OrderText
{
    private static readonly string[] Names =
        Enum.GetValues<OrderField>().Select(f => JsonNamingPolicy.CamelCase.ConvertName(f.ToString())).ToArray();

    // "customerName" and "customer_name", in any letter case; Id is no field of a record.
    private static readonly Dictionary<string, OrderField> FieldsByName = Enum.GetValues<OrderField>()
        .Where(f => f != OrderField.Id)
        .SelectMany(f => new[] { JsonNamingPolicy.CamelCase.ConvertName(f.ToString()), JsonNamingPolicy.SnakeCaseLower.ConvertName(f.ToString()) }
            .Distinct()
            .Select(name => KeyValuePair.Create(name, f)))
        .ToDictionary(StringComparer.OrdinalIgnoreCase);

    public static readonly Dictionary<OrderStatus, string> StatusTexts =
        Enum.GetValues<OrderStatus>().ToDictionary(s => s, EnumText.ToText);

    private static readonly string[] ExpectedFormats = Enum.GetValues<OrderField>().Select(f => f switch
    {
        OrderField.TotalAmount => "must be a number like 1234.50",
        OrderField.Status => $"must be one of {string.Join(", ", StatusTexts.Values)}",
        OrderField.CreatedAt => "must be an ISO 8601 date and time like 2026-11-25T10:30:00Z",
        _ => "must be text",
    }).ToArray();

    private const NumberStyles AmountStyle = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;

    // The field's name in a reason: "customerName".
    public static string Name(OrderField field) => Names[(int)field];

    public static string ExpectedFormat(OrderField field) => ExpectedFormats[(int)field];

    public static bool TryGetField(string name, out OrderField field) => FieldsByName.TryGetValue(name, out field);

    // A name from the body is echoed in the reason; a 60 000-character one would bloat the report.
    public static string Shorten(string name) => name.Length <= 100 ? name : name[..100] + "…";

    public static bool TryParseAmount(ReadOnlySpan<char> text, out decimal? amount)
    {
        var ok = decimal.TryParse(text, AmountStyle, CultureInfo.InvariantCulture, out var value);
        amount = value;
        return ok;
    }

    // Only the exact stored text ("new", not "New"): what the file says is what lands.
    public static bool TryParseStatus(ReadOnlySpan<char> text, out OrderStatus? status)
    {
        foreach (var (value, name) in StatusTexts)
        {
            if (text.SequenceEqual(name))
            {
                status = value;
                return true;
            }
        }
        status = null;
        return false;
    }

    // Invariant parsing also reads "01/02/2026" (month first); only an ISO date is unambiguous.
    public static bool TryParseDate(ReadOnlySpan<char> text, out DateTimeOffset? date)
    {
        date = null;
        if (text.Length < 10 || text[4] != '-' || text[7] != '-')
            return false;
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
            return false;
        date = value;
        return true;
    }

    // The rules of POST /api/orders, run synchronously (no Task per row); the reason names
    // each failing field as the client sent it.
    public static bool IsValid(IValidator<OrderInput> validator, OrderInput order, out string? reason)
    {
        var result = validator.Validate(order);
        reason = result.IsValid
            ? null
            : string.Join("; ", result.Errors.Select(e => $"{JsonNamingPolicy.CamelCase.ConvertName(e.PropertyName)}: {e.ErrorMessage}"));
        return result.IsValid;
    }
}
