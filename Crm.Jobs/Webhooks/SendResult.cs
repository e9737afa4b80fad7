namespace Crm.Jobs.Webhooks;

// What one attempt got: the receiver's status (null when no answer came), when it failed,
// why, and how long a 429 or 503 asked to wait (Retry-After).
public sealed record SendResult(int? Status, string? Error)
{
    public bool Delivered => Status is >= 200 and < 300;

    // 410 Gone: the receiver wants no more deliveries (Standard Webhooks).
    public bool Gone => Status == 410;

    public TimeSpan? RetryAfter { get; init; }

    // The error as a delivery's record keeps it: at most 1 000 characters.
    public string? StoredError => Error is { Length: > 1000 } text ? text[..1000] : Error;
}
