using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Sync;

internal sealed class SyncRunConfiguration : IEntityTypeConfiguration<SyncRun>
{
    public void Configure(EntityTypeBuilder<SyncRun> run)
    {
        run.Property(r => r.JobId).HasMaxLength(100);
        run.Property(r => r.Mode).HasMaxLength(20).HasConversion(EnumText.Converter<SyncMode>());
        run.Property(r => r.Status).HasMaxLength(20).HasConversion(EnumText.Converter<SyncRunStatus>());
        run.Property(r => r.Changes).HasColumnType("jsonb");
        run.Property(r => r.RevertJobId).HasMaxLength(100);
        run.HasIndex(r => r.StartedAt);
        run.HasIndex(r => r.JobId);
        // The runs still marked running: what the abandoned-run check reads.
        run.HasIndex(r => r.Status).HasFilter("status = 'running'").HasDatabaseName("ix_sync_runs_running");
        run.ToTable(t =>
        {
            t.HasCheckConstraint("ck_sync_runs_mode", $"mode IN ({EnumText.SqlList<SyncMode>()})");
            t.HasCheckConstraint("ck_sync_runs_status", $"status IN ({EnumText.SqlList<SyncRunStatus>()})");
        });
    }
}
