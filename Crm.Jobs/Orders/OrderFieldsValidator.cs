using Crm.Jobs.Customers;
using Crm.Jobs.Validation;
using FluentValidation;

namespace Crm.Jobs.Orders;

// Orders are the shop's data: stored as sent (an unparsable phone included) once they are
// within the columns' limits, free of control characters, with a sane amount and date.
internal sealed class OrderFieldsValidator : AbstractValidator<IOrderFields>
{
    public OrderFieldsValidator(TimeProvider clock)
    {
        RuleFor(o => o.CustomerName).MaximumLength(Customer.NameMaxLength).SingleLine();
        RuleFor(o => o.CustomerPhone).MaximumLength(OrderLimits.PhoneMaxLength).SingleLine();
        RuleFor(o => o.CustomerEmail).MaximumLength(Customer.EmailMaxLength).SingleLine();
        RuleFor(o => o.DeliveryCity).MaximumLength(Customer.CityMaxLength).SingleLine();
        RuleFor(o => o.DeliveryAddress).MaximumLength(Customer.AddressMaxLength).NoControlCharacters();
        RuleFor(o => o.TotalAmount)
            .InclusiveBetween(0m, OrderLimits.MaxAmount)
            .PrecisionScale(12, 2, ignoreTrailingZeros: true);
        RuleFor(o => o.Status).IsInEnum();
        RuleFor(o => o.CreatedAt)
            .GreaterThanOrEqualTo(OrderLimits.EarliestCreatedAt)
            .Must(d => d is null || d <= clock.GetUtcNow() + OrderLimits.MaxClockSkew)
            .WithMessage("'{PropertyName}' must not be in the future.");
    }
}
