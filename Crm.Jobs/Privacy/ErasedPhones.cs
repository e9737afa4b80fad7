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

    // Takes the writer's lock on orders, then says whether any tombstone exists: while none
    // does (the usual case), nothing needs hashing.
    public async Task<bool> LockOrdersAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        await connection.ExecuteAsync(LockOrdersSql, transaction, ct);
        return await connection.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM erased_phones)", transaction, ct);
    }

    // Every tombstone, after the lock: for a writer that streams its phones and cannot name
    // them beforehand (the import). The table holds one row per erased person.
    public async Task<ErasedPhoneSet> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var erasedAt = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        if (!await LockOrdersAsync(connection, transaction, ct))
            return new ErasedPhoneSet(hasher, erasedAt);
        await using var command = connection.Command("SELECT phone_hash, erased_at FROM erased_phones", transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            erasedAt[Convert.ToHexString((byte[])reader[0])] = reader.GetDateTime(1);
        return new ErasedPhoneSet(hasher, erasedAt);
    }

    // The tombstones of these phones (phone → when it was erased), looked up by hash: for a
    // writer that knows its phones (a shop batch), so its cost follows the batch, not the
    // number of people ever erased. Call it after LockOrdersAsync, in the same transaction.
    public async Task<Dictionary<string, DateTime>> FindAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<string> phones, CancellationToken ct)
    {
        var byHash = phones.Distinct(StringComparer.Ordinal).ToDictionary(p => Convert.ToHexString(hasher.Hash(p)), StringComparer.Ordinal);
        var found = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        if (byHash.Count == 0)
            return found;
        await using var command = connection.Command(
            "SELECT phone_hash, erased_at FROM erased_phones WHERE phone_hash = ANY(@hashes)", transaction,
            ("hashes", byHash.Keys.Select(Convert.FromHexString).ToArray()));
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            found[byHash[Convert.ToHexString((byte[])reader[0])]] = reader.GetDateTime(1);
        return found;
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
