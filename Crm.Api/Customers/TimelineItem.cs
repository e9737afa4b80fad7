using System.Text.Json;

namespace Crm.Api.Customers;

// One thing that happened to a customer. Which ids and values are set depends on the kind:
// orderId for an order, noteId for a note, field/from/to/runId for a change (reason on a
// category change); text is a short human summary of each. Redacted: a change of a personal
// field whose values the ledger no longer holds (from and to null; docs/LEDGER.md#retention).
public sealed record TimelineItem(
    DateTime At, TimelineKind Kind, string Source, string? Field, JsonElement? From, JsonElement? To,
    long? RunId, long? OrderId, long? NoteId, string Text, CategoryReason? Reason, bool Redacted);
