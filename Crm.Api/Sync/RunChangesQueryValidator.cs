using Crm.Api.Infrastructure;
using Crm.Jobs.Ledger;
using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace Crm.Api.Sync;

public sealed class RunChangesQueryValidator : AbstractValidator<RunChangesQuery>
{
    public RunChangesQueryValidator()
    {
        this.ValidPaging();
        RuleFor(q => q.Field)
            .Must(f => f is null || CustomerChange.Fields.Contains(f))
            .WithMessage($"Field must be one of: {string.Join(", ", CustomerChange.Fields)}.");
    }
}
