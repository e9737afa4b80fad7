namespace Crm.Jobs.Orders;

public static class OrderLimits
{
    public const int PhoneMaxLength = 50;

    // numeric(12,2)
    public const decimal MaxAmount = 9_999_999_999.99m;

    public static readonly DateTimeOffset EarliestCreatedAt = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Clocks differ a little; an order from tomorrow or later is a mistake.
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromDays(1);
}
