namespace Crm.Tests.Webhooks;

public sealed record Subscription(long Id, string Secret);
