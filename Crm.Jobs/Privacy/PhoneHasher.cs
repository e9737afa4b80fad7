using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;

namespace Crm.Jobs.Privacy;

// The keyed hash (HMAC-SHA256) of a normalised phone that a tombstone keeps instead of the
// phone: without the key, the list of erased people cannot be read back by hashing every
// possible number (there are only about 10^10 per country).
public sealed class PhoneHasher(string? key)
{
    private readonly byte[]? _key = string.IsNullOrEmpty(key) ? null : Encoding.UTF8.GetBytes(key);

    // Crm:Privacy:HashKey; in Development without one, a fixed key (tombstones still work on
    // a developer's machine). Outside Development the API refuses to start without a key.
    public static PhoneHasher From(PrivacyOptions options, IHostEnvironment environment) =>
        new(string.IsNullOrEmpty(options.HashKey) && environment.IsDevelopment() ? PrivacyOptions.DevelopmentHashKey : options.HashKey);

    public byte[] Hash(string e164) =>
        HMACSHA256.HashData(
            _key ?? throw new InvalidOperationException("Crm:Privacy:HashKey is not set (environment variable Crm__Privacy__HashKey)."),
            Encoding.UTF8.GetBytes(e164));
}
