namespace Crm.Jobs.Sync;

public enum SyncMode
{
    Auto,
    Default,
    Force,
    StatsOnly,
}
