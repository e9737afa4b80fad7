using Crm.Jobs;
using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace Crm.Api.Reads;

// Where the reads that may be a little stale can go: the server of
// Crm:Database:ReadConnectionString (a standby) while it is at most Crm:Database:MaxReadLag
// behind the primary, the primary otherwise (docs/SCALING.md#step-4-read-replicas-for-lists-and-reads).
// ReplicaWatch keeps Latest current; a request decides once, through ReadSource.
public sealed class ReadReplica : IDisposable
{
    public ReadReplica(DatabaseOptions options, NpgsqlDataSource primary)
    {
        Primary = primary;
        MaxLag = options.MaxReadLag;
        PrimaryContext = ContextOptions(primary);
        if (!string.IsNullOrWhiteSpace(options.ReadConnectionString))
        {
            Standby = CrmDataSources.Create(
                CrmJobsExtensions.ForRequests(options.ReadConnectionString, options.CommandTimeout), CrmDataSources.ReadsPool);
            StandbyContext = ContextOptions(Standby);
        }
    }

    public NpgsqlDataSource Primary { get; }

    // Null: no ReadConnectionString, every read goes to the primary.
    public NpgsqlDataSource? Standby { get; }

    public DbContextOptions<CrmDbContext> PrimaryContext { get; }

    public DbContextOptions<CrmDbContext>? StandbyContext { get; }

    public TimeSpan MaxLag { get; }

    // The last check that answered; null before the first or after one that failed. Written
    // by ReplicaWatch, read by every request: volatile, so a request sees the newest check.
    private volatile ReplicaState? _latest;

    public ReplicaState? Latest
    {
        get => _latest;
        set => _latest = value;
    }

    // Lag grows at most as fast as the clock: a server `Lag` behind at `CheckedAt` is at most
    // Lag + (now - CheckedAt) behind now. A read after a write (readAfter, the write's Crm-Lsn)
    // also needs the server to have replayed that far at the check.
    public bool Serves(NpgsqlLogSequenceNumber? readAfter, DateTime nowUtc) =>
        Standby is not null
        && Latest is { } state
        && state.Lag + (nowUtc - state.CheckedAt) <= MaxLag
        && (readAfter is not { } after || state.Replayed >= after);

    public void Dispose() => Standby?.Dispose();

    private static DbContextOptions<CrmDbContext> ContextOptions(NpgsqlDataSource dataSource)
    {
        var builder = new DbContextOptionsBuilder<CrmDbContext>();
        CrmDbContext.Configure(builder, dataSource);
        return builder.Options;
    }
}
