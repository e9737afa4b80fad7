namespace Crm.Jobs.Privacy;

public sealed class PrivacyOptions
{
    public const string Section = "Crm:Privacy";
    public const int MinHashKeyLength = 32;

    // The HMAC key of the erasure tombstones (PhoneHasher). Required outside Development; a
    // new key makes every existing tombstone unrecognisable, so erased people could come back
    // with a re-import: keep it as long as the database.
    public string? HashKey { get; set; }

    // Development only, when no key is set: tombstones still work on a developer's machine.
    public const string DevelopmentHashKey = "crm-minimal development tombstone key, not a secret";
}
