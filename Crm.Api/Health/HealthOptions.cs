namespace Crm.Api.Health;

public sealed class HealthOptions
{
    public const string Section = "Crm:Health";

    // /health/ready runs its checks at most this often; callers in between get the last
    // report, so a flood of probes costs the database nothing.
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(2);
}
