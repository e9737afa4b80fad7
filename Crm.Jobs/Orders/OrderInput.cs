using Crm.Jobs.Customers;
using Crm.Jobs.Validation;
using FluentValidation;

namespace Crm.Jobs.Orders;

// An order as the shop sends it: the body of POST /api/orders, one NDJSON line or one CSV
// row of an import (same field names). Everything but the amount is optional.
public sealed record OrderInput(
    string? CustomerName = null,
    string? CustomerPhone = null,
    string? CustomerEmail = null,
    string? DeliveryCity = null,
    string? DeliveryAddress = null,
    decimal? TotalAmount = null,
    OrderStatus? Status = null,
    DateTimeOffset? CreatedAt = null) : IOrderFields;

// PATCH: a field left out (or null) keeps its value.
public sealed record OrderPatchInput(
    string? CustomerName = null,
    string? CustomerPhone = null,
    string? CustomerEmail = null,
    string? DeliveryCity = null,
    string? DeliveryAddress = null,
    decimal? TotalAmount = null,
    OrderStatus? Status = null,
    DateTimeOffset? CreatedAt = null) : IOrderFields;

public static class OrderLimits
{
    public const int PhoneMaxLength = 50;

    // numeric(12,2)
    public const decimal MaxAmount = 9_999_999_999.99m;

    public static readonly DateTimeOffset EarliestCreatedAt = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Clocks differ a little; an order from tomorrow or later is a mistake.
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromDays(1);
}

public interface IOrderFields
{
    string? CustomerName { get; }
    string? CustomerPhone { get; }
    string? CustomerEmail { get; }
    string? DeliveryCity { get; }
    string? DeliveryAddress { get; }
    decimal? TotalAmount { get; }
    OrderStatus? Status { get; }
    DateTimeOffset? CreatedAt { get; }
}

public sealed class OrderInputValidator : AbstractValidator<OrderInput>
{
    public OrderInputValidator(TimeProvider clock)
    {
        RuleFor(o => o.TotalAmount).NotNull().WithMessage("Total amount is required.");
        Include(new OrderFieldsValidator(clock));
    }
}

public sealed class OrderPatchInputValidator : AbstractValidator<OrderPatchInput>
{
    public OrderPatchInputValidator(TimeProvider clock) => Include(new OrderFieldsValidator(clock));
}

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
