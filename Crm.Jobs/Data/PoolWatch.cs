using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Crm.Jobs.Data;

// Keeps one connection of a pool reading, so that a restart of PostgreSQL clears the pool the
// moment the server says goodbye. Npgsql clears a pool itself when one of its connections
// breaks with 57P01 or an I/O error, but only once a connection is used: after a restart the
// pool still holds connections to the old server, and the first statement of each request or
// job that draws one fails (docs/RELIABILITY.md#a-database-restart). A statement cannot
// simply be retried in general (a COPY half sent, a transaction half done), so the stale
// connections are dropped before anyone draws them: the server sends its 57P01 to every
// session as its shutdown begins, and this connection, waiting on its socket, reads it then.
public sealed class PoolWatch(string pool, NpgsqlDataSource dataSource, ILogger<PoolWatch> logger) : BackgroundService
{
    // Between attempts to reconnect while the server is away: a second restart within it
    // would go unnoticed, so it is short; an attempt to a server that is down fails at once.
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var watching = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                if (!watching)
                    logger.LogDebug("Watching the {Pool} pool's server for a restart", pool);
                watching = true;
                // Nothing is listened to: only the server's error or the end of the socket arrives.
                while (true)
                    await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or IOException or TimeoutException)
            {
                // Npgsql has cleared the pool already when the break was the server's doing;
                // clearing it here too covers any other end of this connection.
                dataSource.Clear();
                if (watching)
                    logger.LogWarning("The {Pool} pool's watch connection ended ({Reason}); its idle connections were dropped",
                        pool, PostgresErrorText.CodeOf(e));
                watching = false;
            }
            try
            {
                await Task.Delay(ReconnectDelay, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
