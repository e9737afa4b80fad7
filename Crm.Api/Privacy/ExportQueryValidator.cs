using Crm.Jobs.Phones;
using Crm.Jobs.Validation;
using FluentValidation;

namespace Crm.Api.Privacy;

public sealed class ExportQueryValidator : AbstractValidator<ExportQuery>
{
    public ExportQueryValidator(PhoneNormalizer phones)
    {
        RuleFor(r => r.Phone).NotEmpty().WithMessage("Phone is required.").PossiblePhone(phones);
    }
}
