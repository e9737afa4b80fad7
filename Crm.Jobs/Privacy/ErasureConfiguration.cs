using Crm.Jobs.Customers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Privacy;

internal sealed class ErasureConfiguration : IEntityTypeConfiguration<Erasure>
{
    public void Configure(EntityTypeBuilder<Erasure> erasure)
    {
        erasure.Property(e => e.RequestedBy).HasMaxLength(200);
        erasure.Property(e => e.Phone).HasMaxLength(Customer.PhoneMaxLength);
        erasure.Property(e => e.JobId).HasMaxLength(100);
        erasure.Property(e => e.Counts).HasColumnType("jsonb");
        // The receipts, newest first.
        erasure.HasIndex(e => e.RequestedAt);
    }
}
