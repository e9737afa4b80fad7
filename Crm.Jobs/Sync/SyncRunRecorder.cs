using System.Diagnostics;
using System.Text.Json;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Crm.Jobs.Sync;

// A run's sync_runs row, its metrics and its log line.
internal sealed class SyncRunRecorder(NpgsqlDataSource dataSource, TimeProvider clock, CrmMetrics metrics, ILogger logger)
{
    // The holder is the session that holds the run's lock: once it is gone, so is the run (SyncRuns).
    private const string StartRunSql = """
        INSERT INTO sync_runs (job_id, mode, status, started_at, created_count, updated_count, unchanged_count,
                               skipped_count, error_count, total_customers, duration_ms, holder_pid, dry_run)
        VALUES (@job_id, @mode, 'running', @now, 0, 0, 0, 0, 0, 0, 0, @holder_pid, @dry_run)
        RETURNING id
        """;

    private const string FinishRunSql = """
        UPDATE sync_runs
        SET status = @status, finished_at = @now, created_count = @created, updated_count = @updated,
            unchanged_count = @unchanged, skipped_count = @skipped, error_count = @errors,
            total_customers = @total, duration_ms = @duration, error = @error, changes = @changes::jsonb
        WHERE id = @id
        """;

    // The run row, the metrics and the log around a run. The body records the run's success
    // itself (FinishAsync), inside its last transaction where it has one. The connection
    // holds the run's lock. The counts returned name the run.
    public async Task<SyncCounts> RecordAsync(
        NpgsqlConnection connection, SyncMode mode, string? jobId, SyncDryRun? dryRun,
        Func<long, Stopwatch, Task<SyncCounts>> body, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        var runId = await StartAsync(mode, jobId, connection.ProcessID, dryRun is not null, ct);
        dryRun?.RunId = runId;
        using var logScope = logger.BeginScope(new Dictionary<string, object> { ["SyncRunId"] = runId });
        try
        {
            var counts = await body(runId, stopwatch) with { RunId = runId };
            // A dry run changed nothing: the sync metrics count real runs only.
            if (dryRun is null)
                metrics.SyncFinished(mode, counts, succeeded: true);
            logger.LogInformation("Sync {Mode} run {RunId} (job {JobId}{DryRun}): {@Counts}",
                mode, runId, jobId, dryRun is null ? "" : ", dry run", counts);
            return counts;
        }
        catch (Exception e)
        {
            var failed = new SyncCounts(0, 0, 0, 0, 1, 0, stopwatch.ElapsedMilliseconds, runId);
            if (dryRun is null)
                metrics.SyncFinished(mode, failed, succeeded: false);
            // The row and the sync.failed webhook say what happened (FailureText); the log
            // has the exception, under the reference an unexpected error's text names.
            var error = FailureText.Of(e);
            logger.LogError(e, "Sync {Mode} run {RunId} (job {JobId}) failed: {Error} (reference {Reference})",
                mode, runId, jobId, error, FailureText.ReferenceOf(e));
            try
            {
                await FinishAsync(runId, SyncRunStatus.Failed, failed, error, null, CancellationToken.None);
            }
            catch (Exception recordError)
            {
                // The run's own failure is what the job reports; this one only goes to the log.
                logger.LogWarning(recordError, "Could not record the failure of sync run {RunId}", runId);
            }
            throw;
        }
    }

    private async Task<long> StartAsync(SyncMode mode, string? jobId, int holderPid, bool dryRun, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        return await connection.ScalarAsync<long>(StartRunSql, ct,
            ("dry_run", dryRun), ("holder_pid", holderPid), ("job_id", jobId), ("mode", EnumText.ToText(mode)),
            ("now", clock.GetUtcNow().UtcDateTime));
    }

    // On a connection of its own, or inside the run's last transaction.
    public async Task FinishAsync(
        long runId, SyncRunStatus status, SyncCounts counts, string? error, Dictionary<string, int>? changes,
        CancellationToken ct, NpgsqlTransaction? transaction = null)
    {
        (string, object?)[] parameters =
        [
            ("changes", changes is null ? null : JsonSerializer.Serialize(changes)),
            ("id", runId), ("status", EnumText.ToText(status)), ("now", clock.GetUtcNow().UtcDateTime),
            ("created", counts.CreatedCount), ("updated", counts.UpdatedCount), ("unchanged", counts.UnchangedCount),
            ("skipped", counts.SkippedCount), ("errors", counts.ErrorCount), ("total", counts.TotalCustomers),
            ("duration", counts.DurationMs), ("error", error),
        ];
        if (transaction is not null)
        {
            await transaction.Connection!.ExecuteAsync(FinishRunSql, transaction, ct, parameters);
            return;
        }
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(FinishRunSql, ct, parameters);
    }

    // The run's error: how many customers were refused and the first reason, naming that
    // customer by id where it exists (a new one has none); never a phone or a value.
    public static string? ErrorSummary(IReadOnlyList<(string Phone, long? CustomerId, string Error)> refused) => refused.Count == 0
        ? null
        : $"{refused.Count} customer(s) could not be written and will be retried (sync_errors, GET /api/sync/errors); first error: "
          + (refused[0].CustomerId is { } id ? $"customer {id}: " : "") + refused[0].Error;
}
