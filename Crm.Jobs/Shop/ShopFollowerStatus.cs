namespace Crm.Jobs.Shop;

public enum ShopFollowerStatus
{
    Disabled,
    Snapshotting,
    Following,
    Reconnecting,
    Failed,
}
