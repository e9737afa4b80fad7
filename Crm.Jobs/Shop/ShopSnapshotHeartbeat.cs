using Microsoft.Extensions.Logging;

namespace Crm.Jobs.Shop;

// While a snapshot runs, the follower's row says so every StatusInterval, with the rows stored
// so far: GET /api/shop takes a row silent for longer than Crm:Shop:StaleAfter for a follower
// that is gone, and a big copy's final MERGE and index builds run for many seconds. From its
// own connection (the snapshot's transaction is not committed yet). Stopped before the
// snapshot's transaction writes the row itself: an update waiting for that row would
// overwrite the final count once the transaction commits.
internal sealed class ShopSnapshotHeartbeat : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task _loop;
    private long _rows;

    private ShopSnapshotHeartbeat(ShopFollowerStateStore state, ShopOptions options, ILogger logger, CancellationToken ct)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _loop = RunAsync(state, options, logger, _stop.Token);
    }

    public static ShopSnapshotHeartbeat Start(ShopFollowerStateStore state, ShopOptions options, ILogger logger, CancellationToken ct) =>
        new(state, options, logger, ct);

    // The rows staged for storing so far (a rejected row is not).
    public void Progress(long rows) => Interlocked.Exchange(ref _rows, rows);

    private async Task RunAsync(ShopFollowerStateStore state, ShopOptions options, ILogger logger, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.StatusInterval);
        var failing = false;
        while (await timer.WaitForNextTickAsync(ct))
        {
            try
            {
                await state.ReportSnapshotProgressAsync(Interlocked.Read(ref _rows), ct);
                failing = false;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // The snapshot itself fails on the same outage and says so; once in the log is enough.
                if (!failing)
                    logger.LogWarning(e, "Could not report the shop snapshot's progress; retrying every {Interval}", options.StatusInterval);
                failing = true;
            }
        }
    }

    public async Task StopAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Stopped, as asked: whatever the cancellation interrupted is of no interest.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
