namespace Crm.Api.Webhooks;

// Every field optional: what is given changes. Enabling a subscription the service disabled
// clears its reason and its failing streak.
public sealed record WebhookPatchRequest(string? Url, string[]? Events, string? Description, bool? Enabled);
