using System.Text.Json;

namespace Crm.Jobs.Ledger;

// One change of a run as a dry run's sample shows it. The sample is a job's result, which
// Hangfire keeps and shows on its dashboard: a personal field (CustomerChange.PersonalFields)
// has null From and To, and only says that it changed; the ledger holds its values
// (GET /api/sync/runs/{id}/changes).
public sealed record ChangeSample(long CustomerId, string Field, JsonElement? From, JsonElement? To);
