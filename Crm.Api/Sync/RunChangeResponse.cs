using System.Text.Json;

namespace Crm.Api.Sync;

public sealed record RunChangeResponse(
    long Id, long CustomerId, string Field, JsonElement? From, JsonElement? To, JsonElement? Reason,
    DateTime At, string Source, long? RunId);
