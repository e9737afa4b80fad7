namespace Crm.Api.Dashboard;

// What FreshnessHistory finds: for the newest write of each customer made exact lately, when it
// was written and how long until it was exact; and the writes still waiting now.
public sealed record WriteFreshness(IReadOnlyList<(DateTime WrittenAt, TimeSpan ToExact)> Exact, int Pending, DateTime? OldestPendingAt);
