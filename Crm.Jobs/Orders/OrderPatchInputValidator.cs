using FluentValidation;

namespace Crm.Jobs.Orders;

public sealed class OrderPatchInputValidator : AbstractValidator<OrderPatchInput>
{
    public OrderPatchInputValidator(TimeProvider clock) => Include(new OrderFieldsValidator(clock));
}
