using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs.Shop;

// The shop's WAL our slot holds, measured by the process holding the follower's lock in every
// state — snapshotting, following, reconnecting, failed, and while a failed follower waits
// to try again — over an ordinary connection of its own, every StatusInterval, into shop_follower.
// A failed follower keeps its slot, and the slot keeps the shop's WAL: this is what shows it.
// Started for as long as the lock is held; disposing it stops the loop.
internal sealed class ShopWalMonitor : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task _loop;

    private ShopWalMonitor(ShopFollowerStateStore state, ShopOptions options, ILogger logger, CancellationToken ct)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _loop = RunAsync(state, options, logger, _stop.Token);
    }

    public static ShopWalMonitor Start(ShopFollowerStateStore state, IOptions<ShopOptions> options, ILogger logger, CancellationToken ct) =>
        new(state, options.Value, logger, ct);

    private static async Task RunAsync(ShopFollowerStateStore state, ShopOptions options, ILogger logger, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(options.StatusInterval);
        var failing = false;
        do
        {
            try
            {
                await using var shop = ShopDatabase.CreateConnection(options);
                await shop.OpenAsync(ct);
                await state.WalMeasuredAsync(await ShopDatabase.RetainedWalAsync(shop, options.Slot, ct), ct);
                failing = false;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // The follower reports the same outage in its state; once in the log is enough.
                if (!failing)
                    logger.LogWarning(e, "Could not measure the WAL the shop keeps for slot {Slot}; retrying every {Interval}", options.Slot, options.StatusInterval);
                failing = true;
            }
        }
        while (await timer.WaitForNextTickAsync(ct));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _loop;
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
            // Stopped, as asked: whatever the cancellation interrupted is of no interest.
        }
        _stop.Dispose();
    }
}
