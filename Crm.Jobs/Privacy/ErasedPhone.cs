namespace Crm.Jobs.Privacy;

// The tombstone of an erased person: a keyed hash of the normalised phone (PhoneHasher) and
// when it was erased. Orders of that phone created up to ErasedAt are skipped by every write
// path, so no import, sync or shop snapshot brings the person back (docs/PRIVACY.md).
public class ErasedPhone
{
    public required byte[] PhoneHash { get; set; }
    public DateTime ErasedAt { get; set; }
}
