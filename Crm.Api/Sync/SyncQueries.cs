using System.Linq.Expressions;
using System.Text.Json;
using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Crm.Jobs.Ledger;
using Crm.Jobs.Sync;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Crm.Api.Sync;

// The sync history as it is read: the runs, a run's changes and the customers not written.
// GET /api/sync/runs, /runs/{id}/changes and /errors answer these, and the dashboard's Syncs
// and changes pages render them (a page a hundred rows long, without a count).
public sealed class SyncQueries(CrmDbContext db, NpgsqlDataSource dataSource)
{
    // The runs newest first, with what the API and the dashboard show of each.
    private static IQueryable<SyncRun> NewestRunsFirst(IQueryable<SyncRun> runs) =>
        runs.OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id);

    private static readonly Expression<Func<SyncRun, SyncRunRow>> RunRow = r => new SyncRunRow(
        r.Id, r.JobId, r.Mode, r.Status, r.StartedAt, r.FinishedAt,
        r.CreatedCount, r.UpdatedCount, r.UnchangedCount, r.SkippedCount, r.ErrorCount,
        r.TotalCustomers, r.DurationMs, r.Error, r.DryRun, r.Changes, r.RevertJobId, r.RevertedAt);

    public async Task<PagedResponse<SyncRunResponse>> RunsAsync(IPageQuery query, CancellationToken ct)
    {
        var page = await db.SyncRuns.AsNoTracking().ToPageAsync(db, query, NewestRunsFirst, RunRow, ct);
        var runs = await ShownAsync(page.Items, ct);
        return new PagedResponse<SyncRunResponse>(runs.Runs, page.Page, page.PageSize, page.TotalCount, page.TotalCountExact);
    }

    // The newest runs, for the dashboard.
    public async Task<SyncRunList> NewestRunsAsync(int limit, CancellationToken ct) =>
        await ShownAsync(await NewestRunsFirst(db.SyncRuns.AsNoTracking()).Take(limit).Select(RunRow).ToListAsync(ct), ct);

    // One run (the dashboard's changes page); null for no such run.
    public async Task<SyncRunResponse?> RunAsync(long id, CancellationToken ct) =>
        (await ShownAsync(await db.SyncRuns.AsNoTracking().Where(r => r.Id == id).Select(RunRow).ToListAsync(ct), ct)).Runs.SingleOrDefault();

    // Only jobs Hangfire still stores get a statusUrl (an expired job's would be a 404), and
    // the dashboard links only those: it drops a succeeded job a day after it finished.
    private async Task<SyncRunList> ShownAsync(IReadOnlyList<SyncRunRow> rows, CancellationToken ct)
    {
        var stored = await SyncRuns.StoredJobIdsAsync(dataSource, rows.Select(r => r.JobId).Concat(rows.Select(r => r.RevertJobId)), ct);
        var runs = rows.Select(r => new SyncRunResponse(r.Id, r.JobId, r.Mode, r.Status, r.StartedAt, r.FinishedAt,
            r.CreatedCount, r.UpdatedCount, r.UnchangedCount, r.SkippedCount, r.ErrorCount,
            r.TotalCustomers, r.DurationMs, r.Error,
            stored.Contains(r.JobId ?? "") ? $"/api/jobs/{r.JobId}" : null,
            r.DryRun, ChangeLedger.Json(r.Changes),
            // A dry run's changes were rolled back with it: its counts are all there is.
            r.DryRun ? null : $"/api/sync/runs/{r.Id}/changes", r.RevertJobId, r.RevertedAt)).ToList();
        return new SyncRunList(runs, stored);
    }

    private static readonly Expression<Func<CustomerChange, RunChangeRow>> ChangeRow = c =>
        new RunChangeRow(c.Id, c.CustomerId, c.Field, c.OldValue, c.NewValue, c.Reason, c.ChangedAt, c.Source, c.RunId);

    private static RunChangeResponse Shown(RunChangeRow c) => new(c.Id, c.CustomerId, c.Field, ChangeLedger.Json(c.OldValue),
        ChangeLedger.Json(c.NewValue), ChangeLedger.Json(c.Reason), c.ChangedAt, c.Source, c.RunId,
        CustomerChange.IsRedacted(c.Field, c.OldValue, c.NewValue));

    private IQueryable<CustomerChange> Changes(long runId, string? field)
    {
        var changes = db.CustomerChanges.AsNoTracking().Where(c => c.RunId == runId);
        return field is null ? changes : changes.Where(c => c.Field == field);
    }

    // A run's changes in the order they were written (its ledger rows, its revert's included);
    // null for no such run.
    public async Task<PagedResponse<RunChangeResponse>?> ChangesAsync(long runId, RunChangesQuery query, CancellationToken ct)
    {
        if (!await db.SyncRuns.AnyAsync(r => r.Id == runId, ct))
            return null;
        var page = await Changes(runId, query.Field).ToPageAsync(db, query, c => c.OrderBy(x => x.Id), ChangeRow, ct);
        return new PagedResponse<RunChangeResponse>(page.Items.Select(Shown).ToList(),
            page.Page, page.PageSize, page.TotalCount, page.TotalCountExact);
    }

    // The dashboard pages through a run's changes by id (keyset): those after the last id shown.
    public async Task<List<RunChangeResponse>> ChangesAfterAsync(long runId, string? field, long afterId, int limit, CancellationToken ct) =>
        (await Changes(runId, field).Where(c => c.Id > afterId).OrderBy(c => c.Id).Take(limit).Select(ChangeRow).ToListAsync(ct))
        .Select(Shown).ToList();

    // A run's changes per field, counted as the changes page lists them: its ledger rows, the
    // revert's included. A dry run's were rolled back with it: its counts are what it would
    // have changed.
    public async Task<Dictionary<string, int>> ChangeCountsAsync(SyncRunResponse run, CancellationToken ct)
    {
        if (run.DryRun)
            return run.Changes?.Deserialize<Dictionary<string, int>>() ?? [];
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await ChangeLedger.CountRunChangesAsync(connection, null, run.Id, ct);
    }

    // Latest failure first.
    private static IQueryable<SyncError> NewestErrorsFirst(IQueryable<SyncError> errors) =>
        errors.OrderByDescending(e => e.LastFailedAt).ThenBy(e => e.Phone);

    private static readonly Expression<Func<SyncError, SyncErrorResponse>> ErrorShown =
        e => new SyncErrorResponse(e.Phone, e.SqlState, e.Error, e.RunId, e.Attempts, e.FirstFailedAt, e.LastFailedAt, e.RetryAt);

    // Customers the database refused to write.
    public Task<PagedResponse<SyncErrorResponse>> ErrorsAsync(IPageQuery query, CancellationToken ct) =>
        db.SyncErrors.AsNoTracking().ToPageAsync(db, query, NewestErrorsFirst, ErrorShown, ct);

    public Task<List<SyncErrorResponse>> NewestErrorsAsync(int limit, CancellationToken ct) =>
        NewestErrorsFirst(db.SyncErrors.AsNoTracking()).Take(limit).Select(ErrorShown).ToListAsync(ct);

    private sealed record SyncRunRow(
        long Id, string? JobId, SyncMode Mode, SyncRunStatus Status, DateTime StartedAt, DateTime? FinishedAt,
        int CreatedCount, int UpdatedCount, int UnchangedCount, int SkippedCount, int ErrorCount,
        int TotalCustomers, long DurationMs, string? Error, bool DryRun, string? Changes, string? RevertJobId, DateTime? RevertedAt);

    private sealed record RunChangeRow(
        long Id, long CustomerId, string Field, string? OldValue, string? NewValue, string? Reason,
        DateTime ChangedAt, string Source, long? RunId);
}
