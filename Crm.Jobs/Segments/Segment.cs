namespace Crm.Jobs.Segments;

// A saved segment (POST /api/segments, docs/API.md "Saved segments"): a name and the filters of
// GET /api/customers, kept as JSON and applied anew on every read, so its customers and count
// follow the data. No personal data: search text is refused (docs/PRIVACY.md).
public class Segment
{
    public const int NameMaxLength = 100;

    public long Id { get; set; }
    public required string Name { get; set; }
    // The filter object as the API took it (jsonb), read back by Crm.Api's SegmentFilter.
    public required string Filter { get; set; }
    public DateTime CreatedAt { get; set; }
    // The caller's API key name, as customer_notes.created_by.
    public required string CreatedBy { get; set; }
}
