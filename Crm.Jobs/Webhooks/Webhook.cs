namespace Crm.Jobs.Webhooks;

// A subscription (table webhooks): where to send which events, signed with its secret.
public class Webhook
{
    public const int MaxUrlLength = 2000;
    public const int MaxDescriptionLength = 500;

    public long Id { get; set; }
    public required string Url { get; set; }
    public required string[] Events { get; set; }
    public string? Description { get; set; }
    public bool Enabled { get; set; } = true;

    // whsec_<base64>: the Standard Webhooks signing key. Returned only when created or rotated.
    public required string Secret { get; set; }
    // After a rotation the old secret signs beside the new one until PreviousSecretExpiresAt.
    public string? PreviousSecret { get; set; }
    public DateTime? PreviousSecretExpiresAt { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    // Since the first failed attempt of the current run of failures; null once one succeeds.
    public DateTime? FailingSince { get; set; }
    public string? LastError { get; set; }
    // Why the service disabled it (failing for Crm:Webhooks:DisableAfter); null when enabled
    // or disabled by an operator.
    public string? DisabledReason { get; set; }

    // The lane count its messages are formed under (Crm:Webhooks:Lanes when they were): a
    // change waits until every message formed under the old count is delivered, so that no
    // customer's events overtake each other (WebhookJobs.SwitchLanesSql).
    public int Lanes { get; set; } = 1;
}
