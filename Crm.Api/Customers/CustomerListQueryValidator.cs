using Crm.Api.Infrastructure;
using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Crm.Jobs.Validation;
using FluentValidation;

namespace Crm.Api.Customers;

public sealed class CustomerListQueryValidator : AbstractValidator<CustomerListQuery>
{
    // The clock reads relative bounds (-P60D) to compare them with the other bound.
    public CustomerListQueryValidator(TimeProvider clock)
    {
        DateTime? Time(string? text) => CustomerFilters.ParseTime(text, clock.GetUtcNow().UtcDateTime);
        bool IsTimeOrAbsent(string? text) => text is null || Time(text) is not null;

        RuleFor(q => q.Category)
            .Must(names => names!.All(c => EnumText.TryParse<CustomerCategory>(c, out _)))
            .WithMessage($"Category must be one of: {EnumText.SqlList<CustomerCategory>()}.")
            .When(q => q.Category is not null);
        RuleFor(q => q.City).MaximumLength(Customer.CityMaxLength).NoControlCharacters();
        RuleFor(q => q.MinSpent).GreaterThanOrEqualTo(0).WithMessage("minSpent must not be negative.");
        RuleFor(q => q.MaxSpent).GreaterThanOrEqualTo(0).WithMessage("maxSpent must not be negative.");
        RuleFor(q => q.MaxSpent).GreaterThanOrEqualTo(q => q.MinSpent)
            .When(q => q.MinSpent is not null && q.MaxSpent >= 0).WithMessage("maxSpent must not be less than minSpent.");
        RuleFor(q => q.MinOrders).GreaterThanOrEqualTo(0).WithMessage("minOrders must not be negative.");
        RuleFor(q => q.MaxOrders).GreaterThanOrEqualTo(0).WithMessage("maxOrders must not be negative.");
        RuleFor(q => q.MaxOrders).GreaterThanOrEqualTo(q => q.MinOrders)
            .When(q => q.MinOrders is not null && q.MaxOrders >= 0).WithMessage("maxOrders must not be less than minOrders.");
        RuleFor(q => q.LastOrderFrom).Must(IsTimeOrAbsent).WithMessage($"lastOrderFrom must be {CustomerFilters.TimeForms}.");
        RuleFor(q => q.LastOrderTo).Must(IsTimeOrAbsent).WithMessage($"lastOrderTo must be {CustomerFilters.TimeForms}.");
        RuleFor(q => q.CreatedFrom).Must(IsTimeOrAbsent).WithMessage($"createdFrom must be {CustomerFilters.TimeForms}.");
        RuleFor(q => q.CreatedTo).Must(IsTimeOrAbsent).WithMessage($"createdTo must be {CustomerFilters.TimeForms}.");
        RuleFor(q => q.LastOrderTo)
            .Must((q, to) => !(Time(q.LastOrderFrom) > Time(to)))
            .WithMessage("lastOrderTo must not be before lastOrderFrom.");
        RuleFor(q => q.CreatedTo)
            .Must((q, to) => !(Time(q.CreatedFrom) > Time(to)))
            .WithMessage("createdTo must not be before createdFrom.");
        RuleFor(q => q.Ordering)
            .Must(o => o is null || CustomerOrdering.IsKnown(o))
            .WithMessage($"Ordering must be one of: {string.Join(", ", CustomerOrdering.Names)}, optionally prefixed with '-'.");
        RuleFor(q => q.Search).MaximumLength(200).NoControlCharacters();
        this.ValidPaging();
    }
}
