using Crm.Jobs.Orders;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;

namespace Crm.Jobs.Shop;

// The shop table's row changes in the replication stream (pgoutput), read into a ShopBatch.
// A RelationMessage says which column holds which OrderField; messages of other tables
// (a publication FOR ALL TABLES) are ignored.
internal sealed class ShopChangeReader(ShopRows rows, ShopOptions options)
{
    // For each relation, the OrderField of each of its columns (-1: not ours); null for another table.
    private readonly Dictionary<uint, int[]?> _fields = new();

    // Reads one message into the batch; transaction boundaries are the caller's.
    public async Task ReadAsync(PgOutputReplicationMessage message, ShopBatch batch, CancellationToken ct)
    {
        switch (message)
        {
            case RelationMessage relation:
                _fields[relation.RelationId] = FieldPositions(relation);
                break;
            case InsertMessage insert when Positions(insert.Relation) is { } positions:
                await ReadRowAsync(batch, insert.NewRow, positions, isUpdate: false, ct);
                break;
            case UpdateMessage update when Positions(update.Relation) is { } positions:
                // The old key comes first in the stream when the key changed (or with REPLICA IDENTITY FULL).
                var oldId = update switch
                {
                    IndexUpdateMessage keyed => await ReadIdAsync(keyed.Key, positions, ct),
                    FullUpdateMessage full => await ReadIdAsync(full.OldRow, positions, ct),
                    _ => null,
                };
                var newId = await ReadRowAsync(batch, update.NewRow, positions, isUpdate: true, ct);
                if (oldId is not null && oldId != newId)
                    batch.Delete(oldId);
                break;
            case DeleteMessage delete when Positions(delete.Relation) is { } positions:
                var deleted = delete switch
                {
                    KeyDeleteMessage keyed => await ReadIdAsync(keyed.Key, positions, ct),
                    FullDeleteMessage full => await ReadIdAsync(full.OldRow, positions, ct),
                    _ => null,
                };
                if (deleted is not null)
                    batch.Delete(deleted);
                break;
            case TruncateMessage truncate when truncate.Relations.Any(r => Positions(r) is not null):
                batch.Truncate();
                break;
        }
    }

    private int[]? FieldPositions(RelationMessage relation)
    {
        var (schema, name) = options.QualifiedTable;
        if (relation.Namespace != schema || relation.RelationName != name)
            return null;
        var mapped = options.Columns.InFieldOrder();
        var positions = relation.Columns.Select(c => Array.IndexOf(mapped, c.ColumnName)).ToArray();
        var missing = Enum.GetValues<OrderField>().Where(f => !positions.Contains((int)f)).ToList();
        // A new column is ignored; a mapped one that went makes every later row unreadable.
        if (missing.Count > 0)
            throw new ShopSetupException(ShopDatabase.MissingColumns(options, missing));
        return positions;
    }

    private int[]? Positions(RelationMessage relation) => _fields.GetValueOrDefault(relation.RelationId);

    // Reads a new row into the batch (or its rejection); returns its shop id.
    private async Task<string?> ReadRowAsync(
        ShopBatch batch, ReplicationTuple tuple, int[] positions, bool isUpdate, CancellationToken ct)
    {
        var values = new string?[Enum.GetValues<OrderField>().Length];
        var addressUnchanged = false;
        string? tooLong = null;
        var column = 0;
        await foreach (var value in tuple)
        {
            var field = positions[column++];
            if (field < 0 || value.IsDBNull)
                continue;
            if (value.IsUnchangedToastedValue)
            {
                // Unchanged and stored out of line (kilobytes): the stream does not carry it again.
                if (field == (int)OrderField.DeliveryAddress)
                    addressUnchanged = true;
                else
                    tooLong = ((OrderField)field).ToString();
                continue;
            }
            values[field] = await value.Get<string>(ct);
        }
        var id = values[(int)OrderField.Id];
        if (tooLong is not null)
            batch.Reject(id ?? "", $"{JsonName(tooLong)}: longer than this service stores");
        else if (rows.TryRead(values, addressUnchanged, out var order, out var reason))
            batch.Upsert(order!, isUpdate);
        else
            batch.Reject(id ?? "", reason!);
        return id;
    }

    private static string JsonName(string field) => char.ToLowerInvariant(field[0]) + field[1..];

    private static async Task<string?> ReadIdAsync(ReplicationTuple tuple, int[] positions, CancellationToken ct)
    {
        string? id = null;
        var column = 0;
        await foreach (var value in tuple)
        {
            if (positions[column++] == (int)OrderField.Id && !value.IsDBNull && !value.IsUnchangedToastedValue)
                id = await value.Get<string>(ct);
        }
        return id;
    }
}
