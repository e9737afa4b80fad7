using Crm.Jobs.Customers;
using Crm.Jobs.Orders;
using Crm.Jobs.Phones;
using FluentValidation;

namespace Crm.Jobs.Shop;

// A shop row's values (text, as PostgreSQL prints them, in OrderField order) into an order,
// by the same rules as POST /api/orders, or the reason it is rejected.
// cachedPhones: distinct phone spellings kept parsed (libphonenumber is the costliest step per row).
public sealed class ShopRows(
    IValidator<OrderInput> validator, PhoneNormalizer phones, ShopOptions options, TimeProvider clock, int cachedPhones = OrderImporter.MaxCachedPhones)
{
    public const int ShopIdMaxLength = 100;

    private readonly PhoneCache _phones = new(phones, cachedPhones);

    public static string ShopId(string? id) =>
        id is null ? "" : id.Length <= ShopIdMaxLength ? id : id[..ShopIdMaxLength];

    public bool TryRead(IReadOnlyList<string?> values, bool addressUnchanged, out ShopOrder? order, out string? reason)
    {
        order = null;
        var id = values[(int)OrderField.Id];
        if (string.IsNullOrEmpty(id) || id.Length > ShopIdMaxLength)
            return Reject(out reason, $"id: must be 1 to {ShopIdMaxLength} characters");

        var amountText = values[(int)OrderField.TotalAmount];
        if (amountText is null)
            return Reject(out reason, "totalAmount: no amount");
        if (!OrderText.TryParseAmount(amountText, out var amount))
            return Reject(out reason, $"totalAmount: '{Shorten(amountText)}' is not a number");

        var statusText = values[(int)OrderField.Status];
        if (statusText is null || !options.Statuses.TryGetValue(statusText, out var status))
            return Reject(out reason, $"status: '{Shorten(statusText)}' is not mapped (Crm:Shop:Statuses)");

        var dateText = values[(int)OrderField.CreatedAt];
        if (dateText is null)
            return Reject(out reason, "createdAt: no date");
        if (!OrderText.TryParseDate(dateText, out var createdAt))
            return Reject(out reason, $"createdAt: '{Shorten(dateText)}' is not a date");

        var input = new OrderInput(
            values[(int)OrderField.CustomerName], values[(int)OrderField.CustomerPhone], values[(int)OrderField.CustomerEmail],
            values[(int)OrderField.DeliveryCity], addressUnchanged ? null : values[(int)OrderField.DeliveryAddress],
            amount, status, createdAt);
        reason = null;
        if (!PlainlyValid(input) && !OrderText.IsValid(validator, input, out reason))
            return false;
        order = new ShopOrder(id, input, _phones.Normalize(input.CustomerPhone), addressUnchanged);
        return true;
    }

    // OrderFieldsValidator's rules (those of POST /api/orders) by hand, without FluentValidation's
    // context and result per row, which cost more than the snapshot's copy itself. Nearly every row
    // passes; one that does not goes through the validator, which decides and words the reason.
    private bool PlainlyValid(OrderInput o) =>
        PlainText(o.CustomerName, Customer.NameMaxLength, singleLine: true)
        && PlainText(o.CustomerPhone, OrderLimits.PhoneMaxLength, singleLine: true)
        && PlainText(o.CustomerEmail, Customer.EmailMaxLength, singleLine: true)
        && PlainText(o.DeliveryCity, Customer.CityMaxLength, singleLine: true)
        && PlainText(o.DeliveryAddress, Customer.AddressMaxLength, singleLine: false)
        && o.TotalAmount is { } amount && amount >= 0m && amount <= OrderLimits.MaxAmount && amount == decimal.Round(amount, 2)
        && o.Status is { } status && Enum.IsDefined(status)
        && o.CreatedAt is { } createdAt && createdAt >= OrderLimits.EarliestCreatedAt
        && createdAt <= clock.GetUtcNow() + OrderLimits.MaxClockSkew;

    // Free text may hold tabs and line breaks (TextRules).
    private static bool PlainText(string? text, int maxLength, bool singleLine)
    {
        if (text is null)
            return true;
        if (text.Length > maxLength)
            return false;
        foreach (var c in text)
        {
            if (char.IsControl(c) && (singleLine || c is not ('\n' or '\r' or '\t')))
                return false;
        }
        return true;
    }

    private static bool Reject(out string? reason, string text)
    {
        reason = text;
        return false;
    }

    private static string Shorten(string? text) => text is null ? "null" : text.Length <= 40 ? text : text[..40] + "…";
}
