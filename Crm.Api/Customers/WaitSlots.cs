using Crm.Api.Infrastructure;

namespace Crm.Api.Customers;

// The original routes' `?wait=` holds a request open for up to 300 s, polling Hangfire's
// storage: at most Crm:RateLimit:MaxWaitsPerKey such requests per key and
// Crm:RateLimit:MaxWaits in all wait at once, so no key can park thousands of them.
public sealed class WaitSlots(LimitOptions options)
{
    // Seconds a refused caller is told to wait: a slot frees when a job finishes or a wait ends.
    public const int RetryAfterSeconds = 5;

    private readonly Dictionary<string, int> _perKey = [];
    private int _all;

    public int MaxPerKey => options.MaxWaitsPerKey;

    public int Max => options.MaxWaits;

    public int Waiting
    {
        get
        {
            lock (_perKey)
                return _all;
        }
    }

    // A slot for the key's wait, given back when disposed; null when the key or everyone is at the limit.
    public IDisposable? TryTake(string key)
    {
        lock (_perKey)
        {
            var ofKey = _perKey.GetValueOrDefault(key);
            if (ofKey >= options.MaxWaitsPerKey || _all >= options.MaxWaits)
                return null;
            _perKey[key] = ofKey + 1;
            _all++;
        }
        return new Slot(this, key);
    }

    private void Release(string key)
    {
        lock (_perKey)
        {
            _all--;
            if (--_perKey[key] == 0)
                _perKey.Remove(key);
        }
    }

    private sealed class Slot(WaitSlots slots, string key) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
                slots.Release(key);
        }
    }
}
