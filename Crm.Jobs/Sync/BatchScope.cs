using System.Text.RegularExpressions;

namespace Crm.Jobs.Sync;

// The phones a batch's statements cover, in the two forms SyncSql's statements name them:
//   {in_scope:<column>}  this scope's predicate on that phone column,
//                        e.g. {in_scope:c.phone} → c.phone = ANY(@scope_phones);
//   {source}             the per-phone source the steps read (SyncSql.SourceSql): the
//                        sync_source temp table, or for a small scope the query itself.
// The one place a sync statement's text is completed; every variant is a named field below.
internal sealed partial class BatchScope
{
    // {phone} stands for the column a statement names.
    private readonly string predicate;

    private BatchScope(string predicate, string? source = null)
    {
        this.predicate = predicate;
        Source = source ?? "sync_source";
    }

    public string Source { get; }

    // Up to ScopedSync.LargeScope phones, as the array parameter @scope_phones: each statement
    // is an index lookup of those phones, and the source is its query (a few index lookups,
    // cheaper than a temp table).
    public static readonly BatchScope SmallScope = WithOwnSource("{phone} = ANY(@scope_phones)");

    // A larger scope, in the sync_scope temp table the statements hash-join with.
    public static readonly BatchScope ScopeTable = new("{phone} IN (SELECT phone FROM sync_scope)");

    // Every phone: a whole-table sync in one transaction, or a full sync of a single chunk.
    public static readonly BatchScope EveryPhone = new("{phone} IS NOT NULL");

    // The phones a full sync's chunk recomputes from the orders (FullSyncChunks).
    public static readonly BatchScope Stale = new("{phone} IN (SELECT phone FROM sync_stale)");

    // A chunk of a full sync, [@lo, @hi), a bound left out at its end of the table. Explicit
    // ranges on every table, so that each statement is an index range scan of the chunk,
    // never a scan of a whole table per chunk.
    public static BatchScope Chunk(string? lo, string? hi) => (lo, hi) switch
    {
        (null, null) => EveryPhone,
        (null, _) => ChunkBelow,
        (_, null) => ChunkFrom,
        _ => ChunkBetween,
    };

    private static readonly BatchScope ChunkBetween = new("{phone} >= @lo AND {phone} < @hi");
    private static readonly BatchScope ChunkFrom = new("{phone} >= @lo");
    private static readonly BatchScope ChunkBelow = new("{phone} < @hi");

    // The part of this scope that error isolation tries at a time (ErrorIsolation).
    public BatchScope InPart() => new($"{predicate} AND {{phone}} IN (SELECT phone FROM sync_part)", Source);

    // The statement as PostgreSQL receives it for this scope.
    public string Apply(string sql) => ApplyPredicate(sql).Replace("{source}", Source);

    private string ApplyPredicate(string sql) => InScope().Replace(sql, m => predicate.Replace("{phone}", m.Groups[1].Value));

    private static BatchScope WithOwnSource(string predicate)
    {
        var scope = new BatchScope(predicate);
        return new BatchScope(predicate, $"({scope.ApplyPredicate(SyncSql.SourceSql)})");
    }

    [GeneratedRegex(@"\{in_scope:([\w.]+)\}")]
    private static partial Regex InScope();
}
