using System.Text.Json;

namespace Crm.Jobs.Ledger;

// One change of a run as a dry run's sample shows it.
public sealed record ChangeSample(long CustomerId, string? Phone, string Field, JsonElement? From, JsonElement? To);
