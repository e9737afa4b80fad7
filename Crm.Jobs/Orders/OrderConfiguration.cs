using Crm.Jobs.Customers;
using Crm.Jobs.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Orders;

internal sealed class OrderConfiguration : IEntityTypeConfiguration<Order>
{
    public void Configure(EntityTypeBuilder<Order> order)
    {
        order.Property(o => o.CustomerName).HasMaxLength(Customer.NameMaxLength).HasDefaultValue("");
        order.Property(o => o.CustomerPhone).HasMaxLength(50).HasDefaultValue("");
        order.Property(o => o.NormalizedPhone).HasMaxLength(Customer.PhoneMaxLength);
        order.Property(o => o.CustomerEmail).HasMaxLength(Customer.EmailMaxLength).HasDefaultValue("");
        order.Property(o => o.DeliveryCity).HasMaxLength(Customer.CityMaxLength).HasDefaultValue("");
        order.Property(o => o.DeliveryAddress).HasMaxLength(Customer.AddressMaxLength).HasDefaultValue("");
        order.Property(o => o.TotalAmount).HasPrecision(12, 2);
        order.Property(o => o.Status).HasMaxLength(20)
            .HasConversion(EnumText.Converter<OrderStatus>())
            .HasDefaultValue(OrderStatus.New).HasSentinel((OrderStatus)(-1));
        order.Property(o => o.CreatedAt).HasDefaultValueSql("now()");
        order.Property(o => o.UpdatedAt).HasDefaultValueSql("now()");
        order.Property(o => o.Source).HasMaxLength(10)
            .HasConversion(EnumText.Converter<OrderSource>())
            .HasDefaultValue(OrderSource.Api).HasSentinel((OrderSource)(-1));
        order.Property(o => o.SourceId).HasMaxLength(100);

        // "Latest order of a phone" and a customer's order history are one index range scan.
        order.HasIndex(o => new { o.NormalizedPhone, o.CreatedAt, o.Id }).IsDescending(false, true, true);
        order.HasIndex(o => new { o.Status, o.CreatedAt });
        order.HasIndex(o => o.CreatedAt);
        // One row per order of a source that has ids of its own (the shop's).
        order.HasIndex(o => new { o.Source, o.SourceId }).IsUnique().HasFilter("source_id IS NOT NULL");

        order.ToTable(t =>
        {
            t.HasCheckConstraint("ck_orders_status", $"status IN ({EnumText.SqlList<OrderStatus>()})");
            t.HasCheckConstraint("ck_orders_total_amount", "total_amount >= 0");
            t.HasCheckConstraint("ck_orders_source", $"source IN ({EnumText.SqlList<OrderSource>()})");
        });
    }
}
