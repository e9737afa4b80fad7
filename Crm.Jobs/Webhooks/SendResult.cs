namespace Crm.Jobs.Webhooks;

// What one attempt got: the receiver's status (null when no answer came) and, when it
// failed, why.
public sealed record SendResult(int? Status, string? Error)
{
    public bool Delivered => Status is >= 200 and < 300;
}
