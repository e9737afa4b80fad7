using System.Diagnostics;

namespace Crm.Jobs.Sync;

// The steps of a run in one transaction (a scoped run, or the first sync into an empty
// customers table) over the batch's phones, steps 1–7 of SyncSql.
internal sealed class ScopedSync(ErrorIsolation isolation)
{
    // Scopes above this many phones are planned as bulk work (hash joins over whole tables).
    public const int LargeScope = 5_000;

    public async Task<SyncCounts> RunAsync(SyncBatch batch, SyncScope scope, Stopwatch stopwatch, CancellationToken ct)
    {
        // 1. The phones in scope, with the request version this run will have seen. A small
        //    scope (up to LargeScope phones: one customer, a window of order writes) travels
        //    as array parameters: its statements are index lookups of those phones, with no
        //    temp table to create (catalog writes) and no statistics to guess. A large one
        //    is a temp table the statements hash-join with.
        var small = await SmallScopeAsync(batch, scope, ct);
        if (small is not null)
        {
            (batch.ScopePhones, batch.ScopeVersions) = small.Value;
            batch.Scope = BatchScope.SmallScope;
        }
        else
        {
            if (scope is SyncScope.Phones list)
                await batch.ExecuteAsync(SyncSql.CreateScopeOfPhonesSql, ct, ("phones", list.Values.Distinct().ToArray()));
            else if (scope is SyncScope.Pending)
            {
                await batch.ExecuteAsync(SyncSql.CreateScopeOfPendingSql, ct);
                await batch.ExecuteAsync(SyncSql.ExpandScopeTableSql, ct);
            }
            batch.Scope = scope is SyncScope.All ? BatchScope.EveryPhone : BatchScope.ScopeTable;

            await batch.ExecuteAsync(SyncSql.BulkSettingsSql, ct);

            // 2. Per phone: the latest order's contact fields and the completed orders' statistics.
            var fromAllOrders = scope is not SyncScope.All && await batch.ScalarAsync<bool>(SyncSql.ScopeIsMostOfTheTableSql, ct);
            await batch.ExecuteAsync(fromAllOrders ? SyncSql.CreateSourceFromAllOrdersSql : SyncSql.CreateSourceSql, ct);
        }

        // 3–5. Create and update customers.
        var (created, updated) = await isolation.ApplyAsync(batch, ct);

        // 6. The requests this auto run has seen.
        if (batch.Mode == SyncMode.Auto && scope is not SyncScope.All)
            await batch.ExecuteAsync(small is not null ? SyncSql.MarkSmallScopeSeenSql : SyncSql.MarkScopeTableSeenSql, ct);

        // 7. Counts for the run row and the job's result.
        var (total, skipped, refusedCustomers) = await SyncWrites.CountAsync(batch, countSkippedOrders: scope is SyncScope.All, ct);
        return new SyncCounts(created, updated, total - created - updated - refusedCustomers, skipped,
            batch.Refused.Count, total, stopwatch.ElapsedMilliseconds);
    }

    // The phones and request versions of a scope of at most LargeScope phones, else null.
    private static async Task<(string[] Phones, long?[] Versions)?> SmallScopeAsync(SyncBatch batch, SyncScope scope, CancellationToken ct)
    {
        List<(string Phone, long? Version)> rows;
        switch (scope)
        {
            case SyncScope.Phones list:
                var listed = list.Values.Distinct().Order(StringComparer.Ordinal).ToArray();
                if (listed.Length > LargeScope)
                    return null;
                // Versions matter to auto runs only (step 6).
                if (batch.Mode != SyncMode.Auto)
                    return (listed, new long?[listed.Length]);
                rows = await batch.QueryAsync(SyncSql.PhonesWithVersionsSql, Row, ct, ("phones", listed));
                break;
            case SyncScope.Pending:
                rows = await batch.QueryAsync(SyncSql.PendingRequestsUpToSql, Row, ct, ("limit", LargeScope + 1));
                break;
            default:
                return null;
        }
        return rows.Count > LargeScope ? null : (rows.Select(r => r.Phone).ToArray(), rows.Select(r => r.Version).ToArray());

        static (string, long?) Row(Npgsql.NpgsqlDataReader reader) => (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetInt64(1));
    }
}
