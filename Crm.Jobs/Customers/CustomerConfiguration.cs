using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Customers;

internal sealed class CustomerConfiguration : IEntityTypeConfiguration<Customer>
{
    public void Configure(EntityTypeBuilder<Customer> customer)
    {
        customer.Property(c => c.Name).HasMaxLength(Customer.NameMaxLength);
        customer.Property(c => c.Phone).HasMaxLength(Customer.PhoneMaxLength);
        customer.Property(c => c.Email).HasMaxLength(Customer.EmailMaxLength).HasDefaultValue("");
        customer.Property(c => c.City).HasMaxLength(Customer.CityMaxLength).HasDefaultValue("");
        customer.Property(c => c.Address).HasMaxLength(Customer.AddressMaxLength).HasDefaultValue("");
        customer.Property(c => c.Notes).HasDefaultValue("");
        customer.Property(c => c.Category).HasMaxLength(20)
            .HasConversion(EnumText.Converter<CustomerCategory>())
            .HasDefaultValue(CustomerCategory.New).HasSentinel((CustomerCategory)(-1));
        customer.Property(c => c.CategoryRule).HasMaxLength(20)
            .HasConversion(EnumText.Converter<CategoryRule>())
            .HasDefaultValue(CategoryRule.NoCompletedOrders).HasSentinel((CategoryRule)(-1));
        customer.Property(c => c.TotalOrders).HasDefaultValue(0).HasSentinel(-1);
        // The sum of many orders of the largest amount an order may have (numeric(12,2)) must fit.
        customer.Property(c => c.TotalSpent).HasPrecision(Customer.TotalSpentPrecision, 2).HasDefaultValue(0m).HasSentinel(-1m);
        customer.Property(c => c.AverageOrder).HasPrecision(12, 2).HasDefaultValue(0m).HasSentinel(-1m);
        customer.Property(c => c.CreatedAt).HasDefaultValueSql("now()");
        customer.Property(c => c.UpdatedAt).HasDefaultValueSql("now()");

        // The ICU collation makes lower() fold Cyrillic as well as Latin whatever the
        // database locale, and ё is written е (as people type it); the stored column lets one
        // trigram index serve all three fields. CustomerSearch.Fold folds a query the same way.
        customer.Property(c => c.SearchText).HasComputedColumnSql(
            """replace(lower((name || ' ' || email || ' ' || phone) COLLATE "und-x-icu"), 'ё', 'е')""", stored: true);

        customer.Property(c => c.Version).IsRowVersion();

        customer.HasIndex(c => c.Phone).IsUnique();
        // The common "best customers of a category" list is one index range scan.
        customer.HasIndex(c => new { c.Category, c.TotalSpent, c.Id });
        customer.HasIndex(c => c.SearchText).HasMethod("gin").HasOperators("gin_trgm_ops");
        // One index per sortable column, with id as the tie-breaker that keeps pages stable.
        customer.HasIndex(c => new { c.Name, c.Id });
        customer.HasIndex(c => new { c.CreatedAt, c.Id });
        customer.HasIndex(c => new { c.TotalOrders, c.Id });
        customer.HasIndex(c => new { c.TotalSpent, c.Id });
        customer.HasIndex(c => new { c.AverageOrder, c.Id });
        customer.HasIndex(c => new { c.LastOrderDate, c.Id });

        customer.ToTable(t =>
        {
            t.HasCheckConstraint("ck_customers_category", $"category IN ({EnumText.SqlList<CustomerCategory>()})");
            t.HasCheckConstraint("ck_customers_category_rule", $"category_rule IN ({EnumText.SqlList<CategoryRule>()})");
            t.HasCheckConstraint("ck_customers_total_orders", "total_orders >= 0");
            t.HasCheckConstraint("ck_customers_total_spent", "total_spent >= 0");
            t.HasCheckConstraint("ck_customers_average_order", "average_order >= 0");
            t.HasCheckConstraint("ck_customers_phone_e164", "phone ~ '^\\+[1-9][0-9]{1,14}$'");
            t.HasCheckConstraint("ck_customers_name", "length(btrim(name)) > 0");
        });

        customer.HasMany(c => c.CustomerNotes).WithOne().HasForeignKey(n => n.CustomerId)
            .OnDelete(DeleteBehavior.Cascade);
    }
}
