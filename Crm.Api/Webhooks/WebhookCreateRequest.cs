namespace Crm.Api.Webhooks;

public sealed record WebhookCreateRequest(string? Url, string[]? Events, string? Description);
