namespace Crm.Jobs.Webhooks;

// Which lane an event goes in (docs/WEBHOOKS.md, lanes): a customer's events always in the
// same one of lanes 1..@lanes, by PostgreSQL's hash of its id (hashint8, the hash of hash
// partitioning: the same on every server and version); events without a customer (sync.*,
// webhook.test) in lane 0. A webhook_events row's expression, for a lane count @lanes.
public static class WebhookLanes
{
    public const int NoCustomer = 0;

    public const string OfEventSql = """
        CASE WHEN data ? 'customerId' THEN 1 + (hashint8((data->>'customerId')::bigint) & 2147483647) % @lanes ELSE 0 END
        """;
}
