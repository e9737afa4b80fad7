namespace Crm.Jobs.Orders;

public sealed record ImportError(long Line, string Reason);
