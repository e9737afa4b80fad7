namespace Crm.Jobs.Shop;

// What the customers of a committed snapshot need (ShopSnapshot.CopyAsync): nothing, the
// shared job of the pending requests (merged into orders), or the one full auto sync that the
// copy straight into orders asked for instead of a request per phone.
internal enum ShopSnapshotSync
{
    None,
    PendingWrites,
    Full,
}
