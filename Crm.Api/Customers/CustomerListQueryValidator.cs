using Crm.Api.Infrastructure;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Validation;
using FluentValidation;

namespace Crm.Api.Customers;

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
