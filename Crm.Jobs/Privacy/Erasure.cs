namespace Crm.Jobs.Privacy;

// One request to erase a person (docs/PRIVACY.md): the receipt once its job has run.
public class Erasure
{
    public long Id { get; set; }
    // The API key's name that asked.
    public required string RequestedBy { get; set; }
    public DateTime RequestedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
    // The customer named by POST /api/customers/{id}/erase, or the one that held the phone.
    public long? CustomerId { get; set; }
    // The normalised phone, held only until the job has run (the job needs it to find the
    // person's orders and sync rows); the job clears it in the transaction of the erase.
    public string? Phone { get; set; }
    public string? JobId { get; set; }
    // Rows deleted or redacted per store (ErasureCounts), as JSON.
    public string? Counts { get; set; }
}
