namespace Crm.Jobs.Customers;

public class CustomerNote
{
    public const int NoteMaxLength = 10_000;

    public long Id { get; set; }
    public long CustomerId { get; set; }
    public required string Note { get; set; }
    public required string CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }
}
