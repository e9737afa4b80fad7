using Crm.Jobs.Validation;
using Crm.Jobs.Webhooks;
using FluentValidation;

namespace Crm.Api.Webhooks;

// The URL rules (WebhookUrlPolicy) and the event names, for creation and change alike.
internal static class WebhookRules
{
    public const int MaxEvents = 10;

    public static IRuleBuilderOptions<T, string?> ValidUrl<T>(this IRuleBuilder<T, string?> rule, WebhookUrlPolicy policy) => rule
        .MaximumLength(Webhook.MaxUrlLength)
        // Uri accepts a NUL or a line break inside a path, but the URL is stored as sent: the
        // database refuses a NUL (a 500), and a line break has no business in a request line.
        .SingleLine()
        .Must(url => policy.Check(url!) is null).WithMessage((_, url) => policy.Check(url!))
        // Resolved now (outside Development): a host inside the private networks is refused at
        // once; the sender checks again at every connection.
        .MustAsync(async (_, url, context, ct) =>
        {
            if (await policy.CheckAddressesAsync(url!, ct) is not { } refusal)
                return true;
            context.MessageFormatter.AppendArgument("Refusal", refusal);
            return false;
        }).WithMessage("{Refusal}");

    public static IRuleBuilderOptions<T, string[]?> ValidEvents<T>(this IRuleBuilder<T, string[]?> rule) => rule
        .Must(events => events!.Length is > 0 and <= MaxEvents).WithMessage($"Events must list 1 to {MaxEvents} event types.")
        .Must(events => events!.All(WebhookEventTypes.Subscribable.Contains))
        .WithMessage($"Events must be among: {string.Join(", ", WebhookEventTypes.Subscribable)}.")
        .Must(events => events!.Distinct().Count() == events!.Length).WithMessage("Events must not repeat an event type.");
}
