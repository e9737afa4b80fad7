using Crm.Jobs.Phones;
using Crm.Jobs.Validation;
using FluentValidation;

namespace Crm.Api.Privacy;

public sealed class ErasureRequestValidator : AbstractValidator<ErasureRequest>
{
    public ErasureRequestValidator(PhoneNormalizer phones)
    {
        RuleFor(r => r.Phone).NotEmpty().WithMessage("Phone is required.").PossiblePhone(phones);
    }
}
