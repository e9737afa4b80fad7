using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Customers;

internal sealed class CustomerNoteConfiguration : IEntityTypeConfiguration<CustomerNote>
{
    public void Configure(EntityTypeBuilder<CustomerNote> note)
    {
        note.Property(n => n.CreatedBy).HasMaxLength(200);
        note.Property(n => n.CreatedAt).HasDefaultValueSql("now()");
        note.HasIndex(n => new { n.CustomerId, n.CreatedAt });
    }
}
