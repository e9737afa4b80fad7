using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Sync;

internal sealed class PendingSyncDispatchConfiguration : IEntityTypeConfiguration<PendingSyncDispatch>
{
    public void Configure(EntityTypeBuilder<PendingSyncDispatch> dispatch)
    {
        dispatch.Property(d => d.Id).ValueGeneratedNever();
        dispatch.Property(d => d.JobId).HasMaxLength(100);
        dispatch.ToTable(t => t.HasCheckConstraint("ck_pending_sync_dispatch_singleton", $"id = {PendingSyncDispatch.SingletonId}"));
        dispatch.HasData(new PendingSyncDispatch { Id = PendingSyncDispatch.SingletonId });
    }
}
