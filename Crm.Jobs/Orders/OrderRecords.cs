namespace Crm.Jobs.Orders;

// One record of an import body at a time: a parsed order, a reason to reject it, or neither
// for a blank line; Line is the physical line the record starts on.
internal abstract class OrderRecords : IDisposable
{
    public long Line { get; protected set; }
    public OrderInput? Order { get; protected set; }
    public string? Reason { get; protected set; }

    public abstract ValueTask<bool> ReadAsync(CancellationToken ct);

    public abstract void Dispose();
}
