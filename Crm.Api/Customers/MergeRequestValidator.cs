using FluentValidation;

namespace Crm.Api.Customers;

public sealed class MergeRequestValidator : AbstractValidator<MergeRequest>
{
    // A merge is of one person's few records; a longer list is a mistake, not a person.
    public const int MaxSources = 20;

    public MergeRequestValidator()
    {
        RuleFor(r => r.TargetId).NotNull().GreaterThan(0).WithMessage("targetId must be a customer's id.");
        RuleFor(r => r.SourceIds).NotEmpty().WithMessage("sourceIds must list at least one customer's id.");
        RuleFor(r => r.SourceIds)
            .Must(ids => ids!.Length <= MaxSources).WithMessage($"sourceIds may list at most {MaxSources} customers.")
            .Must(ids => ids!.All(id => id > 0)).WithMessage("sourceIds must be customers' ids.")
            .Must(ids => ids!.Distinct().Count() == ids!.Length).WithMessage("sourceIds lists a customer twice.")
            .When(r => r.SourceIds is { Length: > 0 });
        RuleFor(r => r.SourceIds)
            .Must((r, ids) => !ids!.Contains(r.TargetId!.Value)).WithMessage("sourceIds must not contain the target: a customer is not merged into itself.")
            .When(r => r.SourceIds is { Length: > 0 } && r.TargetId is > 0);
    }
}
