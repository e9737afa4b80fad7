namespace Crm.Jobs.Webhooks;

public sealed class WebhookOptions
{
    public const string Section = "Crm:Webhooks";

    // Events per HTTP request (one signed message).
    public int MaxEventsPerMessage { get; set; } = 100;

    // A subscription whose deliveries have failed without a success for this long is
    // disabled, with the reason.
    public TimeSpan DisableAfter { get; set; } = TimeSpan.FromHours(24);

    // One request: connecting, sending and reading the answer.
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    // Networks in CIDR notation (10.0.0.0/8, fd00::/8) where receivers may be outside
    // Development besides the public internet: a receiver inside the shop's own network. An
    // entry covering loopback, link-local, 0.0.0.0/8 or :: fails the start, and those stay
    // refused inside any entry (WebhookAddresses.NeverAllowed).
    public string[] AllowedNetworks { get; set; } = [];

    // The setting AllowedNetworks replaced: its presence fails the start.
    public const string RemovedAllowPrivateNetworks = Section + ":AllowPrivateNetworks";

    // Workers of the `webhooks` queue in a process with job servers. Deliveries wait on
    // receivers, so they have workers of their own: a slow receiver never holds a worker that
    // syncs need. As many as a subscription has lanes: its lanes deliver at once.
    public int WorkerCount { get; set; } = 8;

    // A subscription's customer events go out in this many lanes at once, each in order
    // (a customer always in the same lane, by a hash of its id); events without a customer
    // (sync.*, webhook.test) in a lane of their own (docs/WEBHOOKS.md, lanes).
    public int Lanes { get; set; } = 8;

    public const int MaxLanes = 64;

    // The dispatcher is woken by the commit that wrote events (LISTEN/NOTIFY); this is its
    // fallback poll.
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    // Delivered messages (with their events and attempts) older than this are deleted by the
    // recurring `prune-webhooks` job.
    public int RetentionDays { get; set; } = 30;

    // The recurring `prune-webhooks` job. Empty disables it.
    public string PruneCron { get; set; } = "45 3 * * *";

    // After POST /api/webhooks/{id}/rotate-secret the old secret keeps signing this long.
    public static readonly TimeSpan SecretOverlap = TimeSpan.FromHours(24);

    // At most this much of a receiver's answer is read (it goes into the delivery's error).
    public const int MaxResponseBytes = 4096;
}
