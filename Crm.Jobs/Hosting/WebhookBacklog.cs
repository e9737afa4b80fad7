namespace Crm.Jobs.Hosting;

public sealed record WebhookBacklog(long Events, TimeSpan? OldestAge);
