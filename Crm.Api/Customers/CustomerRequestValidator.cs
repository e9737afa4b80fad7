using Crm.Jobs.Phones;
using FluentValidation;

namespace Crm.Api.Customers;

public sealed class CustomerRequestValidator : AbstractValidator<CustomerRequest>
{
    public CustomerRequestValidator(PhoneNormalizer phones)
    {
        RuleFor(r => r.Name).NotEmpty().WithMessage("Name is required.");
        RuleFor(r => r.Phone).NotEmpty().WithMessage("Phone is required.");
        Include(new CustomerFieldsValidator(phones));
    }
}
