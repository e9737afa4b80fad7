using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Sync;

// A phone the sync engine could not write (the database refused its row: a value out of
// range, a check constraint). The rest of its batch committed without it; the phone is
// retried on its own at RetryAt, with a growing delay, and the row goes once it syncs.
public class SyncError
{
    public required string Phone { get; set; }
    public required string SqlState { get; set; }
    public required string Error { get; set; }
    public long? RunId { get; set; }

    // The customer_sync_requests version that failed: a newer write retries the phone at once.
    public long? RequestVersion { get; set; }
    public int Attempts { get; set; }
    public DateTime FirstFailedAt { get; set; }
    public DateTime LastFailedAt { get; set; }
    public DateTime RetryAt { get; set; }
}
