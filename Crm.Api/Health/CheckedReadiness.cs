using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Crm.Api.Health;

// One run of the readiness checks: its report, when it ran (UTC), and its Stopwatch timestamp
// (what ReadinessReport ages it by).
public sealed record CheckedReadiness(HealthReport Report, DateTime At, long Timestamp);
