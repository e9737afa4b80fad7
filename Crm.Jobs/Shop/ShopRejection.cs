using NpgsqlTypes;

namespace Crm.Jobs.Shop;

// A shop row the follower could not take (no amount, unknown status, ...): skipped, kept here.
public class ShopRejection
{
    public long Id { get; set; }
    public required string ShopId { get; set; }
    public required string Reason { get; set; }

    // The end of the shop transaction (or the snapshot's consistent point) that carried it:
    // with ShopId, unique, so a replayed transaction records nothing twice.
    public NpgsqlLogSequenceNumber Lsn { get; set; }
    public DateTime RejectedAt { get; set; }
}
