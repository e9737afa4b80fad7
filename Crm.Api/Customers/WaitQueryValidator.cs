using FluentValidation;

namespace Crm.Api.Customers;

public sealed class WaitQueryValidator : AbstractValidator<WaitQuery>
{
    public WaitQueryValidator() =>
        RuleFor(q => q.Wait).InclusiveBetween(0, OriginalRoutesEndpoints.MaxWaitSeconds)
            .WithMessage($"Wait is the number of seconds to wait for the job: 0 to {OriginalRoutesEndpoints.MaxWaitSeconds}.");
}
