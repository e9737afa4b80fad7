using Crm.Jobs.Sync;
using FluentValidation;

namespace Crm.Api.Sync;

public sealed class SyncRequestValidator : AbstractValidator<SyncRequest>
{
    public SyncRequestValidator() =>
        RuleFor(r => r.Mode)
            .NotNull().Must(m => m is SyncMode.Default or SyncMode.Force or SyncMode.StatsOnly)
            .WithMessage("Mode must be one of: default, force, statsOnly.");
}
