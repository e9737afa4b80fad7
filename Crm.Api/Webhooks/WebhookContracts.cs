using Crm.Api.Infrastructure;
using Crm.Jobs.Validation;
using Crm.Jobs.Webhooks;
using FluentValidation;

namespace Crm.Api.Webhooks;

public sealed record WebhookCreateRequest(string? Url, string[]? Events, string? Description);

// Every field optional: what is given changes. Enabling a subscription the service disabled
// clears its reason and its failing streak.
public sealed record WebhookPatchRequest(string? Url, string[]? Events, string? Description, bool? Enabled);

// The only answers that carry the secret: creation and rotation.
public sealed record WebhookCreated(long Id, string Url, string[] Events, string? Description, bool Enabled, string Secret);

public sealed record WebhookSecretRotated(long Id, string Secret, DateTime PreviousSecretExpiresAt);

public sealed record WebhookSubscription(
    long Id, string Url, string[] Events, string? Description, bool Enabled, string? DisabledReason,
    DateTime? FailingSince, string? LastError, long PendingEvents, DateTime? PreviousSecretExpiresAt,
    DateTime CreatedAt, DateTime UpdatedAt, string DeliveriesUrl);

public sealed record WebhookTestAccepted(string EventId, string JobId, string StatusUrl);

public sealed record WebhookDeliveryItem(
    long WebhookId, string MessageId, int Events, int Attempt, string State, int? ResponseStatus, string? Error,
    int DurationMs, DateTime At);

public sealed record WebhooksQuery(int Page = 1, int PageSize = 50, string? Count = null) : IPageQuery;

public sealed class WebhooksQueryValidator : AbstractValidator<WebhooksQuery>
{
    public WebhooksQueryValidator() => this.ValidPaging();
}

public sealed record WebhookDeliveriesQuery(int Page = 1, int PageSize = 50, string? Count = null) : IPageQuery;

public sealed class WebhookDeliveriesQueryValidator : AbstractValidator<WebhookDeliveriesQuery>
{
    public WebhookDeliveriesQueryValidator() => this.ValidPaging();
}

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

public sealed class WebhookCreateRequestValidator : AbstractValidator<WebhookCreateRequest>
{
    public WebhookCreateRequestValidator(WebhookUrlPolicy policy)
    {
        RuleFor(r => r.Url).Cascade(CascadeMode.Stop).NotEmpty().ValidUrl(policy);
        RuleFor(r => r.Events).Cascade(CascadeMode.Stop).NotNull().ValidEvents();
        RuleFor(r => r.Description).MaximumLength(Webhook.MaxDescriptionLength).NoControlCharacters();
    }
}

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
