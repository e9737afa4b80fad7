using Crm.Api.Infrastructure;
using FluentValidation;

namespace Crm.Api.Webhooks;

public sealed class WebhookDeliveriesQueryValidator : AbstractValidator<WebhookDeliveriesQuery>
{
    public WebhookDeliveriesQueryValidator() => this.ValidPaging();
}
