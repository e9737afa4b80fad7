using System.Text.Json;

namespace Crm.Api.Sync;

// Redacted: a personal field's change whose values the ledger no longer holds (from and to
// null; docs/LEDGER.md#retention).
public sealed record RunChangeResponse(
    long Id, long CustomerId, string Field, JsonElement? From, JsonElement? To, JsonElement? Reason,
    DateTime At, string Source, long? RunId, bool Redacted);
