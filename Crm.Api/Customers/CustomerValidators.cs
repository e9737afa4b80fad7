using Crm.Api.Infrastructure;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Phones;
using Crm.Jobs.Validation;
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

public sealed class CustomerPatchRequestValidator : AbstractValidator<CustomerPatchRequest>
{
    public CustomerPatchRequestValidator(PhoneNormalizer phones)
    {
        RuleFor(r => r.Name).NotEmpty().When(r => r.Name is not null).WithMessage("Name cannot be empty.");
        RuleFor(r => r.Phone).NotEmpty().When(r => r.Phone is not null).WithMessage("Phone cannot be empty.");
        Include(new CustomerFieldsValidator(phones));
    }
}

// The rules every shape of customer input shares, applied to the fields present.
internal sealed class CustomerFieldsValidator : AbstractValidator<ICustomerFields>
{
    public CustomerFieldsValidator(PhoneNormalizer phones)
    {
        RuleFor(r => r.Name).MaximumLength(Customer.NameMaxLength).SingleLine();
        RuleFor(r => r.Phone).SingleLine()
            .Must(p => string.IsNullOrEmpty(p) || phones.Normalize(p) is not null)
            .WithMessage("Phone is not a possible phone number.");
        RuleFor(r => r.Email).MaximumLength(Customer.EmailMaxLength).SingleLine();
        RuleFor(r => r.Email).EmailAddress().When(r => !string.IsNullOrEmpty(r.Email))
            .WithMessage("Email is not a valid e-mail address.");
        RuleFor(r => r.City).MaximumLength(Customer.CityMaxLength).SingleLine();
        RuleFor(r => r.Address).MaximumLength(Customer.AddressMaxLength).NoControlCharacters();
        RuleFor(r => r.Notes).MaximumLength(Customer.NotesMaxLength).NoControlCharacters();
    }
}

public sealed class CustomerListQueryValidator : AbstractValidator<CustomerListQuery>
{
    public CustomerListQueryValidator()
    {
        RuleFor(q => q.Category)
            .Must(c => c is null || EnumText.TryParse<CustomerCategory>(c, out _))
            .WithMessage($"Category must be one of: {EnumText.SqlList<CustomerCategory>()}.");
        RuleFor(q => q.Ordering)
            .Must(o => o is null || CustomerOrdering.IsKnown(o))
            .WithMessage($"Ordering must be one of: {string.Join(", ", CustomerOrdering.Names)}, optionally prefixed with '-'.");
        RuleFor(q => q.Search).MaximumLength(200).NoControlCharacters();
        this.ValidPaging();
    }
}

public sealed class NoteRequestValidator : AbstractValidator<NoteRequest>
{
    public NoteRequestValidator()
    {
        RuleFor(r => r.Note).NotEmpty().MaximumLength(CustomerNote.NoteMaxLength).NoControlCharacters();
    }
}
