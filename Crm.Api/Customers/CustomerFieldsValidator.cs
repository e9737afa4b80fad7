using Crm.Jobs.Customers;
using Crm.Jobs.Phones;
using Crm.Jobs.Validation;
using FluentValidation;

namespace Crm.Api.Customers;

// The rules every shape of customer input shares, applied to the fields present.
internal sealed class CustomerFieldsValidator : AbstractValidator<ICustomerFields>
{
    public CustomerFieldsValidator(PhoneNormalizer phones)
    {
        RuleFor(r => r.Name).MaximumLength(Customer.NameMaxLength).SingleLine();
        RuleFor(r => r.Phone).SingleLine().PossiblePhone(phones);
        RuleFor(r => r.Email).MaximumLength(Customer.EmailMaxLength).SingleLine();
        RuleFor(r => r.Email).EmailAddress().When(r => !string.IsNullOrEmpty(r.Email))
            .WithMessage("Email is not a valid e-mail address.");
        RuleFor(r => r.City).MaximumLength(Customer.CityMaxLength).SingleLine();
        RuleFor(r => r.Address).MaximumLength(Customer.AddressMaxLength).NoControlCharacters();
        RuleFor(r => r.Notes).MaximumLength(Customer.NotesMaxLength).NoControlCharacters();
    }
}
