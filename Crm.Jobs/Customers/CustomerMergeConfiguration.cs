using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Customers;

internal sealed class CustomerMergeConfiguration : IEntityTypeConfiguration<CustomerMerge>
{
    public void Configure(EntityTypeBuilder<CustomerMerge> merge)
    {
        // No foreign keys: a merge outlives its customers (the sources are deleted by it).
        merge.Property(m => m.MergedBy).HasMaxLength(220);
        merge.Property(m => m.UnmergedBy).HasMaxLength(220);
        // The merges a customer is in, as target or source: the checks of a merge (an
        // already-merged source) and of an unmerge (a later merge of the same customers).
        merge.HasIndex(m => m.TargetId);
        merge.HasIndex(m => m.SourceIds).HasMethod("gin");
    }
}
