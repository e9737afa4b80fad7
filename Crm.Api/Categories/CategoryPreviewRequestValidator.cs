using FluentValidation;

namespace Crm.Api.Categories;

public sealed class CategoryPreviewRequestValidator : AbstractValidator<CategoryPreviewRequest>
{
    // Far enough back for any real rule; DateTime arithmetic on "now" stays in range.
    public const int MaxInactiveAfterDays = 36_500;

    public CategoryPreviewRequestValidator()
    {
        RuleFor(r => r.RegularMinOrders).GreaterThan(0).WithMessage("regularMinOrders must be a positive whole number.");
        RuleFor(r => r.VipMinOrders).GreaterThan(0).WithMessage("vipMinOrders must be a positive whole number.");
        RuleFor(r => r.VipMinSpent).GreaterThan(0).WithMessage("vipMinSpent must be a positive amount.");
        RuleFor(r => r.InactiveAfterDays).InclusiveBetween(1, MaxInactiveAfterDays)
            .WithMessage($"inactiveAfterDays must be a whole number of days from 1 to {MaxInactiveAfterDays}.");
    }
}
