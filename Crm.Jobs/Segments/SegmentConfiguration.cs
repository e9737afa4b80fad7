using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Segments;

internal sealed class SegmentConfiguration : IEntityTypeConfiguration<Segment>
{
    public void Configure(EntityTypeBuilder<Segment> segment)
    {
        segment.Property(s => s.Name).HasMaxLength(Segment.NameMaxLength);
        segment.Property(s => s.Filter).HasColumnType("jsonb");
        segment.Property(s => s.CreatedBy).HasMaxLength(200);
        // The name is unique without case: ix_segments_name_folded on lower(name), an expression
        // index that migration Segments holds (EF Core's model has none).
    }
}
