using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Customers;

internal sealed class CustomerPhoneConfiguration : IEntityTypeConfiguration<CustomerPhone>
{
    public void Configure(EntityTypeBuilder<CustomerPhone> phone)
    {
        phone.HasKey(p => p.Phone);
        phone.Property(p => p.Phone).HasMaxLength(Customer.PhoneMaxLength);
        phone.Property(p => p.AddedAt).HasDefaultValueSql("now()");
        // A deleted customer's other phones go with it; their orders form customers of their own.
        phone.HasOne<Customer>().WithMany().HasForeignKey(p => p.CustomerId).OnDelete(DeleteBehavior.Cascade);
        phone.HasIndex(p => p.CustomerId);
        // E.164, as customers.phone (ck_customers_phone_e164).
        phone.ToTable(t => t.HasCheckConstraint("ck_customer_phones_e164", "phone ~ '^\\+[1-9][0-9]{1,14}$'"));
    }
}
