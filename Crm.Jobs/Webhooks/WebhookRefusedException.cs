namespace Crm.Jobs.Webhooks;

// A URL or address the policy refuses: the delivery fails with this message.
public sealed class WebhookRefusedException(string message) : Exception(message);
