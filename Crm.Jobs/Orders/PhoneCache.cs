using Crm.Jobs.Phones;

namespace Crm.Jobs.Orders;

// Each distinct spelling is parsed once (libphonenumber is the costliest step per order,
// and a shop's file repeats its customers' phones); cleared when full, so an import of
// millions of distinct phones keeps a flat memory.
internal sealed class PhoneCache(PhoneNormalizer phones, int capacity)
{
    private readonly Dictionary<string, string?> _e164 = new(StringComparer.Ordinal);

    public int Count => _e164.Count;

    public string? Normalize(string? raw)
    {
        if (raw is null)
            return null;
        if (_e164.TryGetValue(raw, out var e164))
            return e164;
        if (_e164.Count >= capacity)
            _e164.Clear();
        e164 = phones.Normalize(raw);
        _e164.Add(raw, e164);
        return e164;
    }
}
