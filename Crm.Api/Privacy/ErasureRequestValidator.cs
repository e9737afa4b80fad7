using Crm.Jobs.Phones;
using FluentValidation;

namespace Crm.Api.Privacy;

public sealed class ErasureRequestValidator : AbstractValidator<ErasureRequest>
{
    public ErasureRequestValidator(PhoneNormalizer phones)
    {
        RuleFor(r => r.Phone).NotEmpty().WithMessage("Phone is required.")
            .Must(p => string.IsNullOrEmpty(p) || phones.Normalize(p) is not null)
            .WithMessage("Phone is not a possible phone number.");
    }
}
