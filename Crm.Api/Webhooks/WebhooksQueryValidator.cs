using Crm.Api.Infrastructure;
using FluentValidation;

namespace Crm.Api.Webhooks;

public sealed class WebhooksQueryValidator : AbstractValidator<WebhooksQuery>
{
    public WebhooksQueryValidator() => this.ValidPaging();
}
