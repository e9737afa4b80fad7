using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Crm.Tests.Infrastructure;

// Every log line written through it, with its level, for tests of what the logs hold: the
// formatted message, the values of its placeholders and the exception.
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Text)> _lines = new();

    // The lines at this level and above, each as one text.
    public IReadOnlyList<string> AtLeast(LogLevel level) =>
        _lines.Where(line => line.Level >= level).Select(line => line.Text).ToList();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    // A logger for code built by hand (the sync engine in SyncDatabase).
    public ILogger<T> CreateLogger<T>() => new Logger<T>(new Factory(this));

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? string.Join(" | ", pairs.Select(p => $"{p.Key}={p.Value}"))
                : "";
            logs._lines.Enqueue((logLevel, $"[{category}] {formatter(state, exception)} {{{values}}} {exception}"));
        }
    }

    private sealed class Factory(CapturedLogs logs) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => logs.CreateLogger(categoryName);

        public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
