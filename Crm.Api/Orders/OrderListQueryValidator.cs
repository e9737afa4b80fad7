using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using Crm.Jobs.Orders;
using Crm.Jobs.Phones;
using FluentValidation;

namespace Crm.Api.Orders;

public sealed class OrderListQueryValidator : AbstractValidator<OrderListQuery>
{
    public OrderListQueryValidator(PhoneNormalizer phones)
    {
        RuleFor(q => q.Phone)
            .Must(p => p is null || phones.Normalize(p) is not null)
            .WithMessage("Phone is not a possible phone number.");
        RuleFor(q => q.Status)
            .Must(s => s is null || EnumText.TryParse<OrderStatus>(s, out _))
            .WithMessage($"Status must be one of: {EnumText.SqlList<OrderStatus>()}.");
        this.ValidPaging();
    }
}
