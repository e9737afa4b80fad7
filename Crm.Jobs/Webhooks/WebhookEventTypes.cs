namespace Crm.Jobs.Webhooks;

// The event types a subscription may ask for ("*": all of them).
public static class WebhookEventTypes
{
    public const string All = "*";
    public const string CustomerCreated = "customer.created";
    public const string CustomerUpdated = "customer.updated";
    public const string CustomerCategoryChanged = "customer.category_changed";
    public const string CustomerDeleted = "customer.deleted";
    // A person erased (docs/PRIVACY.md): {customerId, erasedAt}, no personal data.
    public const string CustomerErased = "customer.erased";
    // Customers merged into one (POST /api/customers/merge): {customerId, mergeId, targetId, sourceIds}.
    public const string CustomerMerged = "customer.merged";
    // That merge undone: the same fields.
    public const string CustomerUnmerged = "customer.unmerged";
    public const string SyncCompleted = "sync.completed";
    public const string SyncFailed = "sync.failed";
    // Sent by POST /api/webhooks/{id}/test to that subscription alone.
    public const string Test = "webhook.test";

    public static readonly string[] Subscribable =
        [All, CustomerCreated, CustomerUpdated, CustomerCategoryChanged, CustomerDeleted, CustomerErased, CustomerMerged, CustomerUnmerged, SyncCompleted, SyncFailed];
}
