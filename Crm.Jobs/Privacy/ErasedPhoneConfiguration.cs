using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Privacy;

internal sealed class ErasedPhoneConfiguration : IEntityTypeConfiguration<ErasedPhone>
{
    public void Configure(EntityTypeBuilder<ErasedPhone> erased)
    {
        erased.HasKey(e => e.PhoneHash);
    }
}
