namespace Crm.Jobs.Data;

// Every one-key PostgreSQL advisory lock the project takes, in one place: two features
// sharing a key would wait for each other for no reason ("CRM" and a number).
public static class AdvisoryLockKeys
{
    // Bulk runs hold it exclusively, per-customer runs shared (SyncEngine).
    public const long Bulk = 0x43524d_0001;

    // A full sync's whole run, a session lock (SyncEngine).
    public const long FullSync = 0x43524d_0002;

    // The process that publishes crm_customers, a session lock (CustomerCountPublisher).
    public const long CustomerCountPublisher = 0x43524d_0003;

    // The transactions that drop and rebuild the deferred indexes of customers (SyncEngine).
    public const long DeferredIndexes = 0x43524d_0004;

    // The process that follows the shop's database, a session lock (ShopFollower).
    public const long ShopFollower = 0x43524d_0005;
}
