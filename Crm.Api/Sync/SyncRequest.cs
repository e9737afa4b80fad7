using Crm.Jobs.Sync;

namespace Crm.Api.Sync;

public sealed record SyncRequest(SyncMode? Mode, bool DryRun = false);
