using FluentValidation;

namespace Crm.Api.Webhooks;

public sealed class WebhookReplayRequestValidator : AbstractValidator<WebhookReplayRequest>
{
    public WebhookReplayRequestValidator()
    {
        RuleFor(r => r)
            .Must(r => r.RunId is not null || r.From is not null || r.To is not null)
            .WithName("body").WithMessage("Give either from and to (a time window) or runId (a sync run).");
        When(r => r.RunId is not null, () =>
        {
            RuleFor(r => r.From).Null().WithMessage("Give either from and to or runId, not both.");
            RuleFor(r => r.To).Null().WithMessage("Give either from and to or runId, not both.");
            RuleFor(r => r.RunId).GreaterThan(0);
        }).Otherwise(() =>
        {
            RuleFor(r => r.From).NotNull().When(r => r.To is not null).WithMessage("Give from with to.");
            RuleFor(r => r.To).NotNull().When(r => r.From is not null).WithMessage("Give to with from.");
            RuleFor(r => r.From).Must((r, from) => from <= r.To).When(r => r.From is not null && r.To is not null)
                .WithMessage("from must not be after to.");
        });
    }
}
