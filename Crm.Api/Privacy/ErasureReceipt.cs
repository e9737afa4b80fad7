using System.Linq.Expressions;
using System.Text.Json;
using Crm.Jobs.Privacy;

namespace Crm.Api.Privacy;

// What an erase did, per store (PersonalDataStores' names) — never the phone.
public sealed record ErasureReceipt(
    long Id, string RequestedBy, DateTime RequestedAt, DateTime? CompletedAt, long? CustomerId, string? JobId,
    IReadOnlyDictionary<string, int>? Counts)
{
    public static readonly Expression<Func<Erasure, ErasureRow>> Projection = e =>
        new ErasureRow(e.Id, e.RequestedBy, e.RequestedAt, e.CompletedAt, e.CustomerId, e.JobId, e.Counts);

    public static ErasureReceipt From(ErasureRow row) => new(
        row.Id, row.RequestedBy, row.RequestedAt, row.CompletedAt, row.CustomerId, row.JobId,
        row.Counts is null ? null : JsonSerializer.Deserialize<Dictionary<string, int>>(row.Counts));
}
