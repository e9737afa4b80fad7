using System.Security.Cryptography;
using System.Text;

namespace Crm.Api.Auth;

// The configured keys, kept only as SHA-256 digests and compared in constant time.
public sealed class ApiKeyStore
{
    public const int MinimumKeyLength = 16;

    private readonly (byte[] Digest, Caller Caller)[] _keys;

    public ApiKeyStore(AuthOptions options)
    {
        _keys = [.. options.ApiKeys.Select(k => (Digest(k.Key), new Caller(k.Name, CrmRoles.Implied(k.RoleList))))];
    }

    // No keys: authentication is off (allowed in Development only, checked at start).
    public bool Disabled => _keys.Length == 0;

    public Caller? Find(string presentedKey)
    {
        var presented = Digest(presentedKey);
        Caller? match = null;
        // Every key is compared, so the time taken does not tell which one came close.
        foreach (var (digest, caller) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, presented))
                match = caller;
        }
        return match;
    }

    public static IEnumerable<string> Problems(AuthOptions options)
    {
        foreach (var (key, index) in options.ApiKeys.Select((k, i) => (k, i)))
        {
            var at = $"Crm:Auth:ApiKeys:{index}";
            if (string.IsNullOrWhiteSpace(key.Name))
                yield return $"{at}:Name is empty.";
            if (key.Key.Length < MinimumKeyLength)
                yield return $"{at}:Key must be at least {MinimumKeyLength} characters.";
            else if (LooksLikePlaceholder(key.Key))
                yield return $"{at}:Key of '{key.Name}' looks like a placeholder (\"change-me\", \"example\", \"xxxx\", one repeated character): set a random secret.";
            if (key.RoleList.Length == 0 || key.RoleList.Any(r => !CrmRoles.All.Contains(r)))
                yield return $"{at}:Roles must list some of: {string.Join(", ", CrmRoles.All)}.";
        }
        if (options.ApiKeys.GroupBy(k => k.Name).Any(g => g.Count() > 1))
            yield return "Crm:Auth:ApiKeys: names must be unique (a note's author is the key's name).";
        if (options.ApiKeys.GroupBy(k => k.Key).Any(g => g.Count() > 1))
            yield return "Crm:Auth:ApiKeys: keys must be unique.";
    }

    private static readonly string[] PlaceholderMarks = ["change-me", "changeme", "change_me", "example", "placeholder", "your-key", "your_key", "yourkey", "xxxx"];

    // A key copied from a sample or a compose file is known to everyone who read it.
    public static bool LooksLikePlaceholder(string key) =>
        PlaceholderMarks.Any(mark => key.Contains(mark, StringComparison.OrdinalIgnoreCase)) || key.Distinct().Count() == 1;

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
