namespace Crm.Jobs.Privacy;

// What an erase job reports (its Hangfire result, the receipt): rows per store, never the phone.
public sealed record ErasureResult(long ErasureId, IReadOnlyList<long> CustomerIds, DateTime ErasedAt, IReadOnlyDictionary<string, int> Counts);
