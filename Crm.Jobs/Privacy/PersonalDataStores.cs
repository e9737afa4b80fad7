using Crm.Jobs.Webhooks;

namespace Crm.Jobs.Privacy;

// Every store that can hold a person's data, in the order an erase visits them (the
// customers before the ledger: deleting them writes the ledger's `deleted` rows and the
// webhook events that the later steps redact and delete). Parameters:
// @phones (the normalised phone asked for and every phone of the customers that hold it),
// @patterns ('%' || phone || '%' for each), @phones_regex (any of them, for redacting texts),
// @customer_ids (the customers that hold the phone or were named), @ledger_ids (those and
// every customer id the ledger shows with one of the phones: PersonIdsSql), @personal_fields
// (CustomerChange.PersonalFields); Person.Parameters gives them.
// Index paths only, except the stores that are small by design (sync runs, the shop's
// rejections and state) and Hangfire's jobs, whose texts can only be searched.
public static class PersonalDataStores
{
    // The customers that hold the phone now (as their primary phone or another one), or the
    // one the erasure named.
    public const string CustomerIdsSql = """
        SELECT coalesce(array_agg(DISTINCT id ORDER BY id), '{}') FROM (
            SELECT id FROM customers WHERE id = @customer_id OR phone = @phone
            UNION ALL
            SELECT customer_id FROM customer_phones WHERE phone = @phone
        ) AS holders(id)
        """;

    // The phone asked for and every phone of those customers: one person, all their numbers.
    public const string PhonesSql = """
        SELECT array_agg(DISTINCT phone ORDER BY phone) FROM (
            SELECT @phone::varchar
            UNION ALL
            SELECT phone FROM customers WHERE id = ANY(@customer_ids)
            UNION ALL
            SELECT phone FROM customer_phones WHERE customer_id = ANY(@customer_ids)
        ) AS person(phone)
        """;

    // Every customer id one of the phones ever belonged to: the ledger's created and deleted rows
    // carry the phone, and a changed phone has rows of its own (migration Privacy's indexes).
    public const string PersonIdsSql = """
        SELECT coalesce(array_agg(DISTINCT id ORDER BY id), '{}') FROM (
            SELECT unnest(@customer_ids::bigint[])
            UNION ALL
            SELECT customer_id FROM customer_changes
            WHERE field IN ('created', 'deleted') AND coalesce(new_value, old_value) ->> 'phone' = ANY(@phones)
            UNION ALL
            SELECT customer_id FROM customer_changes
            WHERE field = 'phone' AND (old_value #>> '{}' = ANY(@phones) OR new_value #>> '{}' = ANY(@phones))
        ) AS person(id)
        """;

    // A webhook event about one of the person's customer ids (every customer.* event names
    // its customer; migration Privacy indexes the id).
    private const string PersonEvent = "(data ? 'customerId' AND (data ->> 'customerId')::bigint = ANY(@ledger_ids))";

    private const string HangfireJobsSql = """
        SELECT id FROM hangfire.job WHERE arguments::text LIKE ANY(@patterns) OR invocationdata::text LIKE ANY(@patterns)
        UNION SELECT jobid FROM hangfire.state WHERE data::text LIKE ANY(@patterns) OR reason LIKE ANY(@patterns)
        UNION SELECT jobid FROM hangfire.jobparameter WHERE value LIKE ANY(@patterns)
        """;

    public static readonly PersonalDataStore[] All =
    [
        new("notes",
            "SELECT * FROM customer_notes WHERE customer_id = ANY(@customer_ids) ORDER BY id",
            "DELETE FROM customer_notes WHERE customer_id = ANY(@customer_ids)"),
        // Before the customers, whose delete would take them along uncounted.
        new("customerPhones",
            "SELECT * FROM customer_phones WHERE phone = ANY(@phones) OR customer_id = ANY(@customer_ids) ORDER BY customer_id, phone",
            "DELETE FROM customer_phones WHERE phone = ANY(@phones) OR customer_id = ANY(@customer_ids)"),
        new("customers",
            "SELECT id, name, phone, email, city, address, notes, category, category_rule, total_orders, total_spent, average_order, last_order_date, created_at, updated_at FROM customers WHERE id = ANY(@customer_ids) ORDER BY id",
            "DELETE FROM customers WHERE id = ANY(@customer_ids)"),
        new("orders",
            "SELECT * FROM orders WHERE normalized_phone = ANY(@phones) ORDER BY created_at, id",
            "DELETE FROM orders WHERE normalized_phone = ANY(@phones)"),
        // The personal values go; the field, time, source and run stay, so the history still
        // says that something changed.
        new("ledger",
            "SELECT * FROM customer_changes WHERE customer_id = ANY(@ledger_ids) ORDER BY customer_id, changed_at, id",
            """
            UPDATE customer_changes SET old_value = NULL, new_value = NULL
            WHERE customer_id = ANY(@ledger_ids) AND field = ANY(@personal_fields)
              AND (old_value IS NOT NULL OR new_value IS NOT NULL)
            """, LedgerPrune: true),
        // The messages first, while their events still say whose they are: a message keeps its
        // other events, its body rebuilt from them; a message of this person's events alone goes
        // (with its attempts). A receiver that already had it dedupes by the event ids.
        new("webhookMessages",
            $"SELECT * FROM webhook_messages WHERE id IN (SELECT message_id FROM webhook_events WHERE {PersonEvent}) ORDER BY id",
            $"""
            UPDATE webhook_messages m SET body = b.body, event_count = b.event_count
            FROM (SELECT message_id, {WebhookJobs.MessageBodySql} AS body, count(*)::int AS event_count
                  FROM webhook_events
                  WHERE message_id IN (SELECT message_id FROM webhook_events WHERE {PersonEvent}) AND NOT {PersonEvent}
                  GROUP BY message_id) AS b
            WHERE m.id = b.message_id;
            DELETE FROM webhook_messages m
            WHERE id IN (SELECT message_id FROM webhook_events WHERE {PersonEvent})
              AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.message_id = m.id AND NOT {PersonEvent})
            """),
        new("webhookEvents",
            $"SELECT * FROM webhook_events WHERE {PersonEvent} ORDER BY id",
            $"DELETE FROM webhook_events WHERE {PersonEvent}"),
        new("syncRequests",
            "SELECT * FROM customer_sync_requests WHERE phone = ANY(@phones) ORDER BY phone",
            "DELETE FROM customer_sync_requests WHERE phone = ANY(@phones)"),
        new("syncErrors",
            "SELECT * FROM sync_errors WHERE phone = ANY(@phones) ORDER BY phone",
            "DELETE FROM sync_errors WHERE phone = ANY(@phones)"),
        new("syncRuns",
            "SELECT id, error FROM sync_runs WHERE error LIKE ANY(@patterns) ORDER BY id",
            "UPDATE sync_runs SET error = regexp_replace(error, @phones_regex, '[erased]', 'g') WHERE error LIKE ANY(@patterns)"),
        new("shopRejections",
            "SELECT * FROM shop_rejections WHERE reason LIKE ANY(@patterns) ORDER BY id",
            "UPDATE shop_rejections SET reason = regexp_replace(reason, @phones_regex, '[erased]', 'g') WHERE reason LIKE ANY(@patterns)"),
        new("shopFollower",
            "SELECT id, error FROM shop_follower WHERE error LIKE ANY(@patterns)",
            "UPDATE shop_follower SET error = regexp_replace(error, @phones_regex, '[erased]', 'g') WHERE error LIKE ANY(@patterns)"),
        new("webhooks",
            "SELECT id, last_error, disabled_reason FROM webhooks WHERE last_error LIKE ANY(@patterns) OR disabled_reason LIKE ANY(@patterns) ORDER BY id",
            """
            UPDATE webhooks SET last_error = regexp_replace(last_error, @phones_regex, '[erased]', 'g'),
                                disabled_reason = regexp_replace(disabled_reason, @phones_regex, '[erased]', 'g')
            WHERE last_error LIKE ANY(@patterns) OR disabled_reason LIKE ANY(@patterns)
            """),
        // Hangfire's jobs whose arguments, results or failure texts name the phone (none of
        // the service's own jobs do: they carry ids). Their queue entries go with them.
        new("jobs",
            $"SELECT id, statename, createdat FROM hangfire.job WHERE id IN ({HangfireJobsSql}) ORDER BY id",
            $"""
            WITH doomed AS ({HangfireJobsSql}),
            dequeued AS (DELETE FROM hangfire.jobqueue WHERE jobid IN (SELECT id FROM doomed))
            DELETE FROM hangfire.job WHERE id IN (SELECT id FROM doomed)
            """),
    ];
}
