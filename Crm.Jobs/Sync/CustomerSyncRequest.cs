using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Sync;

// The durable "this customer needs an auto sync" record, written in the same transaction
// as the order that caused it. Version counts writes; SyncedVersion is the newest write a
// finished sync has seen.
public class CustomerSyncRequest
{
    public required string Phone { get; set; }
    public long Version { get; set; }
    public long SyncedVersion { get; set; }
    public DateTime RequestedAt { get; set; }
}
