using Crm.Jobs.Phones;
using Crm.Jobs.Validation;
using FluentValidation;

namespace Crm.Api.Customers;

public sealed class CustomerPhoneRequestValidator : AbstractValidator<CustomerPhoneRequest>
{
    public CustomerPhoneRequestValidator(PhoneNormalizer phones)
    {
        RuleFor(r => r.Phone).NotEmpty().WithMessage("Phone is required.");
        RuleFor(r => r.Phone).SingleLine().PossiblePhone(phones);
    }
}
