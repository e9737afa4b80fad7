namespace Crm.Api.Infrastructure;

public sealed class LimitOptions
{
    public const string Section = "Crm:RateLimit";

    public int PermitsPerMinute { get; set; } = 600;

    // Request bodies larger than this are refused with 413, except the streamed import.
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}
