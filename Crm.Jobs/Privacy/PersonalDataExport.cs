using System.Text.Json;
using Crm.Jobs.Data;
using Npgsql;

namespace Crm.Jobs.Privacy;

// Everything held about one person (docs/PRIVACY.md#export): every store's rows as its
// table holds them, read in one snapshot with the same parameters an erase uses.
public static class PersonalDataExport
{
    public static async Task<PersonalData> ReadAsync(
        NpgsqlDataSource dataSource, ErasedPhones erasedPhones, string phone, long? customerId, TimeProvider clock, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        // Db's commands have no client timeout (they serve jobs); a request gets a server-side one.
        await connection.ExecuteAsync("SET LOCAL statement_timeout = '30s'", transaction, ct);
        var person = await Person.FindAsync(connection, transaction, phone, customerId, ct);
        var parameters = person.Parameters();

        var stores = new Dictionary<string, JsonElement>();
        foreach (var store in PersonalDataStores.All)
        {
            var rows = await connection.ScalarAsync<string>(
                $"SELECT coalesce(jsonb_agg(to_jsonb(t)), '[]')::text FROM ({store.ExportSql}) AS t", transaction, ct, parameters);
            stores[store.Name] = JsonDocument.Parse(rows!).RootElement.Clone();
        }
        var erasedAt = await connection.ScalarAsync<DateTime?>(
            "SELECT erased_at FROM erased_phones WHERE phone_hash = @hash", transaction, ct, ("hash", erasedPhones.Hash(phone)));
        await transaction.CommitAsync(ct);
        return new PersonalData(clock.GetUtcNow().UtcDateTime, phone, person.Phones, erasedAt, stores);
    }
}
