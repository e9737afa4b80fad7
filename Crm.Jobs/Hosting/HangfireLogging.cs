using Microsoft.Extensions.Logging;
using HangfireLogLevel = Hangfire.Logging.LogLevel;

namespace Crm.Jobs.Hosting;

// Hangfire keeps its loggers in statics for the life of the process, while a logger factory
// lives and dies with its host. With several hosts in one process (the tests, the CLI
// commands) a static logger can outlive its factory; this provider then stays silent
// instead of throwing from inside Hangfire.
internal sealed class HangfireLogProvider(ILoggerFactory factory) : Hangfire.Logging.ILogProvider
{
    public Hangfire.Logging.ILog GetLogger(string name) => new HostLog(factory, name);

    private sealed class HostLog(ILoggerFactory factory, string name) : Hangfire.Logging.ILog
    {
        private ILogger? _logger;

        public bool Log(HangfireLogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            var level = logLevel switch
            {
                HangfireLogLevel.Trace => LogLevel.Trace,
                HangfireLogLevel.Debug => LogLevel.Debug,
                HangfireLogLevel.Info => LogLevel.Information,
                HangfireLogLevel.Warn => LogLevel.Warning,
                HangfireLogLevel.Error => LogLevel.Error,
                _ => LogLevel.Critical,
            };
            try
            {
                _logger ??= factory.CreateLogger(name);
                if (messageFunc is null)
                    return _logger.IsEnabled(level);
                if (_logger.IsEnabled(level))
                    _logger.Log(level, exception, "{Message}", messageFunc());
                return true;
            }
            catch (ObjectDisposedException)
            {
                // The host that owned the factory has stopped.
                return false;
            }
        }
    }
}
