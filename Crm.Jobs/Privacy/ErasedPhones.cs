using Crm.Jobs.Data;
using Npgsql;

namespace Crm.Jobs.Privacy;

// What every path that writes orders asks before it stores one (docs/PRIVACY.md#erase-that-sticks).
// The caller's transaction first takes its ROW EXCLUSIVE lock on orders, then reads the
// tombstones: an erase holds SHARE ROW EXCLUSIVE on orders until it commits, so a writer
// either finishes before the erase starts (and the erase deletes what it wrote) or reads the
// tombstone the erase committed. Never both missed.
public sealed class ErasedPhones(PhoneHasher hasher)
{
    public const string LockOrdersSql = "LOCK TABLE orders IN ROW EXCLUSIVE MODE";

    // Every tombstone: for a writer of many phones (an import, a shop batch). The table holds
    // one row per erased person, so it stays small next to the orders.
    public async Task<ErasedPhoneSet> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await connection.ExecuteAsync(LockOrdersSql, transaction, ct);
        var erasedAt = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        await using var command = connection.Command("SELECT phone_hash, erased_at FROM erased_phones", transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            erasedAt[Convert.ToHexString((byte[])reader[0])] = reader.GetDateTime(1);
        return new ErasedPhoneSet(hasher, erasedAt);
    }

    // One phone's tombstone: for a single order write (a request: its commands keep the
    // request pool's timeout, unlike Db's).
    public async Task<DateTime?> ErasedAtAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string e164, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(LockOrdersSql + ";\nSELECT erased_at FROM erased_phones WHERE phone_hash = @hash", connection, transaction);
        command.Parameters.AddWithValue("hash", hasher.Hash(e164));
        return await command.ExecuteScalarAsync(ct) is DateTime at ? at : null;
    }

    public byte[] Hash(string e164) => hasher.Hash(e164);
}
