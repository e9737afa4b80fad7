using Crm.Jobs.Phones;
using FluentValidation;

namespace Crm.Api.Customers;

public sealed class CustomerPatchRequestValidator : AbstractValidator<CustomerPatchRequest>
{
    public CustomerPatchRequestValidator(PhoneNormalizer phones)
    {
        RuleFor(r => r.Name).NotEmpty().When(r => r.Name is not null).WithMessage("Name cannot be empty.");
        RuleFor(r => r.Phone).NotEmpty().When(r => r.Phone is not null).WithMessage("Phone cannot be empty.");
        Include(new CustomerFieldsValidator(phones));
    }
}
