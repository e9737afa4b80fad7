using Crm.Jobs.Validation;
using Crm.Jobs.Webhooks;
using FluentValidation;

namespace Crm.Api.Webhooks;

public sealed class WebhookCreateRequestValidator : AbstractValidator<WebhookCreateRequest>
{
    public WebhookCreateRequestValidator(WebhookUrlPolicy policy)
    {
        RuleFor(r => r.Url).Cascade(CascadeMode.Stop).NotEmpty().ValidUrl(policy);
        RuleFor(r => r.Events).Cascade(CascadeMode.Stop).NotNull().ValidEvents();
        RuleFor(r => r.Description).MaximumLength(Webhook.MaxDescriptionLength).NoControlCharacters();
    }
}
