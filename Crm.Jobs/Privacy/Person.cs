using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Npgsql;

namespace Crm.Jobs.Privacy;

// Whom an export or an erase is about: the normalised phone, the customers that hold it now
// (or the one named), and every customer id the ledger shows with it. Export and erase find
// the person the same way, so the export lists what the erase would touch.
public sealed record Person(string Phone, long[] CustomerIds, long[] LedgerIds)
{
    public static async Task<Person> FindAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string phone, long? customerId, CancellationToken ct)
    {
        var customerIds = await connection.ScalarAsync<long[]>(PersonalDataStores.CustomerIdsSql, transaction, ct,
            ("customer_id", (object?)customerId ?? DBNull.Value), ("phone", phone)) ?? [];
        var ledgerIds = await connection.ScalarAsync<long[]>(PersonalDataStores.PersonIdsSql, transaction, ct,
            ("customer_ids", customerIds), ("phone", phone)) ?? [];
        return new Person(phone, customerIds, ledgerIds);
    }

    // The parameters every statement of PersonalDataStores reads.
    public (string Name, object? Value)[] Parameters() =>
    [
        ("phone", Phone),
        ("pattern", "%" + Phone + "%"),
        ("customer_ids", CustomerIds),
        ("ledger_ids", LedgerIds),
        ("personal_fields", CustomerChange.PersonalFields),
    ];
}
