using FluentValidation;

namespace Crm.Jobs.Orders;

public sealed class OrderInputValidator : AbstractValidator<OrderInput>
{
    public OrderInputValidator(TimeProvider clock)
    {
        RuleFor(o => o.TotalAmount).NotNull().WithMessage("Total amount is required.");
        Include(new OrderFieldsValidator(clock));
    }
}
