using Crm.Jobs.Validation;
using Crm.Jobs.Webhooks;
using FluentValidation;

namespace Crm.Api.Webhooks;

public sealed class WebhookPatchRequestValidator : AbstractValidator<WebhookPatchRequest>
{
    public WebhookPatchRequestValidator(WebhookUrlPolicy policy)
    {
        RuleFor(r => r)
            .Must(r => r.Url is not null || r.Events is not null || r.Description is not null || r.Enabled is not null)
            .WithName("body").WithMessage("Give at least one of: url, events, description, enabled.");
        RuleFor(r => r.Url).Cascade(CascadeMode.Stop).NotEmpty().ValidUrl(policy).When(r => r.Url is not null);
        RuleFor(r => r.Events).Cascade(CascadeMode.Stop).ValidEvents().When(r => r.Events is not null);
        RuleFor(r => r.Description).MaximumLength(Webhook.MaxDescriptionLength).NoControlCharacters();
    }
}
