using Crm.Jobs.Categories;

namespace Crm.Jobs.Sync;

// The statements of a sync run, as PostgreSQL receives them, but for the batch's scope:
// {in_scope:<column>} and {source} are completed by BatchScope (its named variants show
// every form they take). The parameters every batch statement may use are SyncBatch's.
// The steps are the sync rules of docs/SYNC-RULES.md: 1. the scope, 2. the per-phone
// source, 3. create, 4. update, 5. customers without orders, 6. requests seen, 7. counts.
internal static class SyncSql
{
    // The phones of the customers with more than one among those the two predicates pick (by
    // their primary phone c.phone, or by another phone cp.phone), each with its customer's
    // primary phone: the key their orders are counted under. Phones of a customer with one
    // phone are not in it: their key is themselves. Driven by the picked phones (customers'
    // phone index, customer_phones' key), then by customer (customer_phones' customer_id): a
    // few index lookups for a few phones, whatever the size of the tables.
    private static string PhoneKeysSql(string ownerByPrimary, string ownerByOther) => $"""
        WITH owners AS (
            SELECT c.id, c.phone FROM customers c
            WHERE {ownerByPrimary} AND EXISTS (SELECT 1 FROM customer_phones cp WHERE cp.customer_id = c.id)
            UNION
            SELECT c.id, c.phone FROM customer_phones cp JOIN customers c ON c.id = cp.customer_id
            WHERE {ownerByOther}
        )
        SELECT o.phone, o.phone AS key_phone FROM owners o
        UNION ALL
        SELECT cp.phone, o.phone FROM owners o JOIN customer_phones cp ON cp.customer_id = o.id
        """;

    // 1. The phones given and every other phone of their customers: a run over a customer reads
    //    the orders of all its phones together (SourceSql).
    public static string ExpandedSql(string givenPhones) => $"""
        SELECT g.phone FROM ({givenPhones}) AS g(phone)
        UNION
        SELECT k.phone FROM ({PhoneKeysSql($"c.phone IN ({givenPhones})", $"cp.phone IN ({givenPhones})")}) AS k
        """;

    // Per-customer runs share the bulk lock (SyncEngine.BulkLockKey), then lock their phones with
    // every other phone of their customers, sorted, so that two runs over one customer (by two
    // of its phones) or over overlapping phones cannot deadlock. Returns the phones locked: the
    // run's scope. A phone added to or removed from a customer meanwhile asks for a sync of its
    // own (CustomerPhonesEndpoints), so a run that expanded before that commit is followed by one after.
    public static readonly string LockPhonesSql = $"""
        SELECT pg_advisory_xact_lock_shared(@bulk_lock);
        SELECT p FROM (SELECT p, pg_advisory_xact_lock(hashtextextended(p, 0)) FROM ({ExpandedSql("SELECT unnest(@phones)")}) AS e(p) ORDER BY p) locked;
        """;

    // The first sync into an empty customers table runs in one transaction (SyncEngine).
    public const string CustomersEmptySql = "SELECT NOT EXISTS (SELECT 1 FROM customers)";

    // 1. The pending requests a run takes: a phone the database refused waits for its retry
    //    time, unless a newer write (a corrected order) asks for it again.
    public const string PendingRequestsSql = """
        SELECT r.phone, r.version FROM customer_sync_requests r
        WHERE r.version > r.synced_version
          AND NOT EXISTS (
              SELECT 1 FROM sync_errors e
              WHERE e.phone = r.phone AND e.retry_at > @now AND e.request_version >= r.version)
        """;

    // One row past the small scope's limit tells a small scope from a large one; with every
    // other phone of their customers (their request versions too).
    public static readonly string PendingRequestsUpToSql = $"""
        WITH pending AS MATERIALIZED ({PendingRequestsSql} LIMIT @limit)
        SELECT phone, version FROM pending
        UNION
        SELECT e.phone, r.version FROM ({ExpandedSql("SELECT phone FROM pending")}) AS e(phone)
        LEFT JOIN customer_sync_requests r ON r.phone = e.phone
        """;

    // 1. Listed phones (already expanded: LockPhonesSql) with the request version this run will have seen.
    public const string PhonesWithVersionsSql =
        "SELECT p.phone, r.version FROM unnest(@phones) AS p(phone) LEFT JOIN customer_sync_requests r ON r.phone = p.phone";

    // 1. A large scope, as the temp table the statements hash-join with, then every other phone
    //    of its customers added.
    public const string CreateScopeOfPhonesSql = "CREATE TEMP TABLE sync_scope ON COMMIT DROP AS " + PhonesWithVersionsSql;
    public const string CreateScopeOfPendingSql = "CREATE TEMP TABLE sync_scope ON COMMIT DROP AS " + PendingRequestsSql;
    public static readonly string ExpandScopeTableSql = $"""
        INSERT INTO sync_scope (phone, version)
        SELECT e.phone, r.version FROM ({ExpandedSql("SELECT phone FROM sync_scope")}) AS e(phone)
        LEFT JOIN customer_sync_requests r ON r.phone = e.phone
        WHERE NOT EXISTS (SELECT 1 FROM sync_scope s WHERE s.phone = e.phone)
        """;

    // Statistics of customers can be stale mid-run (an autoanalyze during the run sees our
    // uncommitted rows as missing), and a nested loop over 200k × 200k rows then takes
    // minutes; hash joins are right at this size. The per-phone aggregate also fits in
    // memory instead of spilling.
    public const string BulkSettingsSql = "SET LOCAL enable_nestloop = off; SET LOCAL work_mem = '64MB'";

    // Whether sync_scope holds at least a tenth as many phones as customers has rows (by
    // the planner's estimate; an empty or never analysed table counts as none).
    public const string ScopeIsMostOfTheTableSql = """
        SELECT (SELECT count(*) FROM sync_scope) * 10 >= greatest(reltuples, 0)
        FROM pg_class WHERE oid = 'customers'::regclass
        """;

    // 2. The latest order's contact fields, trimmed, and the completed orders' statistics, of
    //    the orders o of a phone or of a customer's phones.
    private const string LatestFieldsSql = """
        btrim(o.customer_name, E' \t\r\n') AS name, btrim(o.customer_email, E' \t\r\n') AS email,
        btrim(o.delivery_city, E' \t\r\n') AS city, btrim(o.delivery_address, E' \t\r\n') AS address
        """;

    private const string StatisticsFieldsSql =
        "count(*)::int AS total_orders, sum(o.total_amount) AS total_spent, max(o.created_at) AS last_order_date";

    // 2. Per customer in scope, keyed by its primary phone (or, before it exists, by the phone of
    //    its orders): the latest order's contact fields and the completed orders' statistics.
    //    "Latest" = newest created_at, then highest id (the orders index serves this order).
    //    The status test is written `(…) IS TRUE`, a form no index serves: the phone is then the
    //    only indexable condition, so one customer's orders are read by the phone index alone even
    //    on a table just loaded and not yet analysed, where the planner guessed the completed
    //    orders few and ANDed the status index (most of the table) with the phone's
    //    (FreshTablePlanTests). A FILTER over all the phone's orders would do the same, but costs
    //    a whole-table sync a quarter more (docs/BENCHMARKS.md); this costs nothing measurable.
    //    Phones of customers with several (multi) are left out of the one pass over the orders
    //    in the phone index's order and aggregated by their key from their own orders: the pass
    //    stays as fast as it was, and the extra work is as large as those customers' orders.
    public static readonly string SourceSql = $$"""
        WITH multi AS MATERIALIZED ({{PhoneKeysSql("{in_scope:c.phone}", "{in_scope:cp.phone}")}}),
        latest AS (
            SELECT DISTINCT ON (o.normalized_phone)
                   o.normalized_phone AS phone,
                   {{LatestFieldsSql}}
            FROM orders o
            WHERE {in_scope:o.normalized_phone}
            ORDER BY o.normalized_phone, o.created_at DESC, o.id DESC
        ),
        stats AS (
            SELECT o.normalized_phone AS phone,
                   {{StatisticsFieldsSql}}
            FROM orders o
            WHERE (o.status = 'completed') IS TRUE AND {in_scope:o.normalized_phone}
            GROUP BY o.normalized_phone
        ),
        multi_latest AS (
            SELECT DISTINCT ON (m.key_phone)
                   m.key_phone AS phone,
                   {{LatestFieldsSql}}
            FROM multi m JOIN orders o ON o.normalized_phone = m.phone
            ORDER BY m.key_phone, o.created_at DESC, o.id DESC
        ),
        multi_stats AS (
            SELECT m.key_phone AS phone,
                   {{StatisticsFieldsSql}}
            FROM multi m JOIN orders o ON o.normalized_phone = m.phone
            WHERE (o.status = 'completed') IS TRUE
            GROUP BY m.key_phone
        ),
        keyed AS (
            SELECT l.phone, l.name, l.email, l.city, l.address, s.total_orders, s.total_spent, s.last_order_date
            FROM latest l
            LEFT JOIN stats s ON s.phone = l.phone
            WHERE NOT EXISTS (SELECT 1 FROM multi m WHERE m.phone = l.phone)
            UNION ALL
            SELECT l.phone, l.name, l.email, l.city, l.address, s.total_orders, s.total_spent, s.last_order_date
            FROM multi_latest l
            LEFT JOIN multi_stats s ON s.phone = l.phone
        )
        SELECT phone, name, email, city, address,
               coalesce(total_orders, 0) AS total_orders,
               coalesce(total_spent, 0) AS total_spent,
               coalesce(round(total_spent / total_orders, 2), 0) AS average_order,
               last_order_date
        FROM keyed
        """;

    // 2. Every phone's source: one pass over all orders in the phone index's order.
    // A property, not a field: BatchScope's own fields read SourceSql while they are made.
    public static string SourceOfAllOrdersSql => BatchScope.EveryPhone.Apply(SourceSql);

    // 2. A whole-table sync's or a large scope's source.
    public static readonly string CreateSourceSql = "CREATE TEMP TABLE sync_source ON COMMIT DROP AS " + SourceSql;

    // 2. A scope of a tenth of the customers or more (an import of new phones) reads all
    //    orders as a full sync does and keeps the phones in scope: joining the orders with
    //    the scope first would sort every matched order again (a temp table also rules out
    //    parallel plans): twice as slow.
    public static string CreateSourceFromAllOrdersSql => $$"""
        CREATE TEMP TABLE sync_source ON COMMIT DROP AS
        SELECT * FROM ({{SourceOfAllOrdersSql}} OFFSET 0) whole WHERE {in_scope:whole.phone}
        """;

    // The category and its rule from the source's statistics (CategoryRules, one list).
    private static readonly string CategoryOfSource = CategoryRules.Sql("s.total_orders", "s.total_spent", "s.last_order_date");
    private static readonly string RuleOfSource = CategoryRules.RuleSql("s.total_orders", "s.total_spent", "s.last_order_date");

    // 3. Create the missing customers, complete from the start (not in statsOnly). The
    //    anti-join skips existing phones cheaply; ON CONFLICT covers a customer created
    //    meanwhile by the API or another run, which step 4 then brings up to date.
    public static readonly string CreateCustomersSql = $$"""
        INSERT INTO customers (name, phone, email, city, address,
                               total_orders, total_spent, average_order, last_order_date, category, category_rule,
                               created_at, updated_at)
        SELECT coalesce(nullif(s.name, ''), @placeholder), s.phone, s.email, s.city, s.address,
               s.total_orders, s.total_spent, s.average_order, s.last_order_date,
               {{CategoryOfSource}},
               {{RuleOfSource}},
               @now, @now
        FROM {source} s
        WHERE {in_scope:s.phone}
          AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.phone = s.phone)
        ORDER BY s.phone
        ON CONFLICT (phone) DO NOTHING
        """;

    // 4. Bring existing customers up to date, writing only rows that change: one statement
    //    per mode, as the modes differ in the columns they set. The new values are computed
    //    from the target row itself (c), so a concurrent API edit is re-read by PostgreSQL
    //    rather than overwritten with a stale copy. s is the latest order's data.
    public static string UpdateCustomersSql(SyncMode mode) => mode switch
    {
        SyncMode.Auto => UpdateAutoSql,
        SyncMode.Force => UpdateForceSql,
        _ => UpdateStatisticsSql,
    };

    // auto: fill only what is empty (the name also when it is the placeholder).
    private static readonly string UpdateAutoSql = $$"""
        UPDATE customers c
        SET (name, email, city, address,
             total_orders, total_spent, average_order, last_order_date, category, category_rule, updated_at)
          = (CASE WHEN c.name IN ('', @placeholder) AND s.name <> '' THEN s.name ELSE c.name END,
             CASE WHEN c.email = '' AND s.email <> '' THEN s.email ELSE c.email END,
             CASE WHEN c.city = '' AND s.city <> '' THEN s.city ELSE c.city END,
             CASE WHEN c.address = '' AND s.address <> '' THEN s.address ELSE c.address END,
             s.total_orders, s.total_spent, s.average_order, s.last_order_date, {{CategoryOfSource}}, {{RuleOfSource}}, @now)
        FROM {source} s
        WHERE s.phone = c.phone AND {in_scope:c.phone}
          AND (c.name, c.email, c.city, c.address,
               c.total_orders, c.total_spent, c.average_order, c.last_order_date, c.category, c.category_rule)
              IS DISTINCT FROM
              (CASE WHEN c.name IN ('', @placeholder) AND s.name <> '' THEN s.name ELSE c.name END,
               CASE WHEN c.email = '' AND s.email <> '' THEN s.email ELSE c.email END,
               CASE WHEN c.city = '' AND s.city <> '' THEN s.city ELSE c.city END,
               CASE WHEN c.address = '' AND s.address <> '' THEN s.address ELSE c.address END,
               s.total_orders, s.total_spent, s.average_order, s.last_order_date, {{CategoryOfSource}}, {{RuleOfSource}})
        """;

    // force: overwrite wherever the latest order has a value.
    private static readonly string UpdateForceSql = $$"""
        UPDATE customers c
        SET (name, email, city, address,
             total_orders, total_spent, average_order, last_order_date, category, category_rule, updated_at)
          = (CASE WHEN s.name <> '' THEN s.name ELSE c.name END,
             CASE WHEN s.email <> '' THEN s.email ELSE c.email END,
             CASE WHEN s.city <> '' THEN s.city ELSE c.city END,
             CASE WHEN s.address <> '' THEN s.address ELSE c.address END,
             s.total_orders, s.total_spent, s.average_order, s.last_order_date, {{CategoryOfSource}}, {{RuleOfSource}}, @now)
        FROM {source} s
        WHERE s.phone = c.phone AND {in_scope:c.phone}
          AND (c.name, c.email, c.city, c.address,
               c.total_orders, c.total_spent, c.average_order, c.last_order_date, c.category, c.category_rule)
              IS DISTINCT FROM
              (CASE WHEN s.name <> '' THEN s.name ELSE c.name END,
               CASE WHEN s.email <> '' THEN s.email ELSE c.email END,
               CASE WHEN s.city <> '' THEN s.city ELSE c.city END,
               CASE WHEN s.address <> '' THEN s.address ELSE c.address END,
               s.total_orders, s.total_spent, s.average_order, s.last_order_date, {{CategoryOfSource}}, {{RuleOfSource}})
        """;

    // default and statsOnly: the statistics and the category only; contact fields stay.
    private static readonly string UpdateStatisticsSql = $$"""
        UPDATE customers c
        SET (total_orders, total_spent, average_order, last_order_date, category, category_rule, updated_at)
          = (s.total_orders, s.total_spent, s.average_order, s.last_order_date, {{CategoryOfSource}}, {{RuleOfSource}}, @now)
        FROM {source} s
        WHERE s.phone = c.phone AND {in_scope:c.phone}
          AND (c.total_orders, c.total_spent, c.average_order, c.last_order_date, c.category, c.category_rule)
              IS DISTINCT FROM
              (s.total_orders, s.total_spent, s.average_order, s.last_order_date, {{CategoryOfSource}}, {{RuleOfSource}})
        """;

    // 5. Customers without any order in scope: no statistics, category new.
    public const string ResetCustomersWithoutOrdersSql = """
        UPDATE customers c
        SET (total_orders, total_spent, average_order, last_order_date, category, category_rule, updated_at)
            = (0, 0, 0, NULL, 'new', 'noCompletedOrders', @now)
        WHERE {in_scope:c.phone}
          AND NOT EXISTS (SELECT 1 FROM {source} s WHERE s.phone = c.phone)
          AND (c.total_orders, c.total_spent, c.average_order, c.last_order_date, c.category, c.category_rule)
              IS DISTINCT FROM (0, 0, 0, NULL, 'new', 'noCompletedOrders')
        """;

    // 6. Auto runs record which writes they have seen, so the sweeper can tell what is left.
    //    A refused phone's request stays pending for its retry. Rows are locked in phone
    //    order, as writers take them (SyncScheduler.RecordAsync): no deadlock. One statement
    //    per form of the scope: its arrays, or the sync_scope table.
    public const string MarkSmallScopeSeenSql = """
        SELECT 1 FROM customer_sync_requests
        WHERE phone = ANY(@scope_phones)
        ORDER BY phone
        FOR UPDATE;
        UPDATE customer_sync_requests r
        SET synced_version = greatest(r.synced_version, scope.version)
        FROM unnest(@scope_phones, @scope_versions) AS scope(phone, version)
        WHERE r.phone = scope.phone AND scope.version IS NOT NULL AND scope.phone <> ALL(@refused)
        """;

    public const string MarkScopeTableSeenSql = """
        SELECT 1 FROM customer_sync_requests
        WHERE phone IN (SELECT phone FROM sync_scope)
        ORDER BY phone
        FOR UPDATE;
        UPDATE customer_sync_requests r
        SET synced_version = greatest(r.synced_version, scope.version)
        FROM sync_scope AS scope
        WHERE r.phone = scope.phone AND scope.version IS NOT NULL AND scope.phone <> ALL(@refused)
        """;

    // 7. Customers in scope, and how many of them were refused (they are neither updated
    //    nor unchanged). A whole-table sync also counts the orders without a usable phone.
    public const string CountSql = """
        SELECT (SELECT count(*) FROM customers c WHERE {in_scope:c.phone})::int,
               0,
               (SELECT count(*) FROM customers c WHERE c.phone = ANY(@refused))::int
        """;

    public const string CountWithSkippedOrdersSql = """
        SELECT (SELECT count(*) FROM customers c WHERE {in_scope:c.phone})::int,
               (SELECT count(*) FROM orders WHERE normalized_phone IS NULL)::int,
               (SELECT count(*) FROM customers c WHERE c.phone = ANY(@refused))::int
        """;

    // Orders without a usable phone, which no customer counts (a full sync's skipped).
    public const string SkippedOrdersSql = "SELECT count(*)::int FROM orders WHERE normalized_phone IS NULL";

    // A phone that synced is no longer in error.
    public const string ClearErrorsSql = "DELETE FROM sync_errors e WHERE {in_scope:e.phone} AND e.phone <> ALL(@refused)";
}
