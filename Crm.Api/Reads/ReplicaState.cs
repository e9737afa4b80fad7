using NpgsqlTypes;

namespace Crm.Api.Reads;

// One check of the reads' server: whether it is a standby, how far behind the primary it was,
// and the WAL position it had replayed (its own insert position when it is a primary).
public sealed record ReplicaState(bool IsStandby, TimeSpan Lag, NpgsqlLogSequenceNumber Replayed, DateTime CheckedAt);
