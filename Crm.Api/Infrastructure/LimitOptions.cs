namespace Crm.Api.Infrastructure;

public sealed class LimitOptions
{
    public const string Section = "Crm:RateLimit";

    public int PermitsPerMinute { get; set; } = 600;

    // Request bodies larger than this are refused with 413, except the streamed import.
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    // Requests of the original routes waiting for their job (`?wait=`) at once, per key and
    // in all (WaitSlots); past either, 429 with Retry-After.
    public int MaxWaitsPerKey { get; set; } = 10;

    public int MaxWaits { get; set; } = 100;
}
