using System.Text.RegularExpressions;
using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Npgsql;

namespace Crm.Jobs.Privacy;

// Whom an export or an erase is about: the normalised phone asked for, the customers that
// hold it now (as their primary phone or another one) or the one named, every phone of those
// customers (one person, all their numbers), and every customer id the ledger shows with one
// of those phones. Export and erase find the person the same way, so the export lists what
// the erase would touch.
public sealed record Person(string Phone, string[] Phones, long[] CustomerIds, long[] LedgerIds)
{
    public static async Task<Person> FindAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string phone, long? customerId, CancellationToken ct)
    {
        var customerIds = await connection.ScalarAsync<long[]>(PersonalDataStores.CustomerIdsSql, transaction, ct,
            ("customer_id", (object?)customerId ?? DBNull.Value), ("phone", phone)) ?? [];
        var phones = await connection.ScalarAsync<string[]>(PersonalDataStores.PhonesSql, transaction, ct,
            ("customer_ids", customerIds), ("phone", phone)) ?? [phone];
        var ledgerIds = await connection.ScalarAsync<long[]>(PersonalDataStores.PersonIdsSql, transaction, ct,
            ("customer_ids", customerIds), ("phones", phones)) ?? [];
        return new Person(phone, phones, customerIds, ledgerIds);
    }

    // The parameters every statement of PersonalDataStores reads.
    public (string Name, object? Value)[] Parameters() =>
    [
        ("phones", Phones),
        ("patterns", Phones.Select(p => "%" + p + "%").ToArray()),
        // E.164 phones: '+' and digits, the '+' escaped.
        ("phones_regex", string.Join("|", Phones.Select(Regex.Escape))),
        ("customer_ids", CustomerIds),
        ("ledger_ids", LedgerIds),
        ("personal_fields", CustomerChange.PersonalFields),
    ];
}
