using Crm.Api.Infrastructure;

namespace Crm.Api.Webhooks;

public sealed record WebhookDeliveriesQuery(int Page = 1, int PageSize = 50, string? Count = null) : IPageQuery;
