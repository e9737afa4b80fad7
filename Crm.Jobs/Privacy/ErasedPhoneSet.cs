namespace Crm.Jobs.Privacy;

// The tombstones as one writer saw them after taking its lock on orders (ErasedPhones).
public sealed class ErasedPhoneSet(PhoneHasher hasher, Dictionary<string, DateTime> erasedAt)
{
    public bool IsEmpty => erasedAt.Count == 0;

    // When this phone was last erased, or null.
    private DateTime? ErasedAt(string? e164) =>
        e164 is null || IsEmpty ? null
        : erasedAt.TryGetValue(Convert.ToHexString(hasher.Hash(e164)), out var at) ? at : null;

    // An order of an erased phone that existed when it was erased is never stored again; a
    // later one starts a new relationship (docs/PRIVACY.md#erase-that-sticks).
    public bool Skips(string? e164, DateTime createdAt) => ErasedAt(e164) is { } at && createdAt <= at;
}
