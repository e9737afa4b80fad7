using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Crm.Jobs.Ledger;

internal sealed class CustomerChangeConfiguration : IEntityTypeConfiguration<CustomerChange>
{
    public void Configure(EntityTypeBuilder<CustomerChange> change)
    {
        change.Property(c => c.Field).HasMaxLength(20);
        change.Property(c => c.Source).HasMaxLength(220);
        change.Property(c => c.OldValue).HasColumnType("jsonb");
        change.Property(c => c.NewValue).HasColumnType("jsonb");
        change.Property(c => c.Reason).HasColumnType("jsonb");
        // A customer's timeline, newest first.
        change.HasIndex(c => new { c.CustomerId, c.ChangedAt, c.Id });
        // A run's changes (dry-run summaries, GET /api/sync/runs/{id}/changes, revert).
        change.HasIndex(c => new { c.RunId, c.Id }).HasFilter("run_id IS NOT NULL");
        // Pruning by age: a BRIN index costs next to nothing to maintain on an append-only table.
        change.HasIndex(c => c.ChangedAt).HasMethod("brin").HasDatabaseName("ix_customer_changes_changed_at_brin");
        // The personal values still to redact by age (LedgerJobs.RedactPersonalValuesSql, the
        // same field list as CustomerChange.PersonalFields): a row leaves it when redacted, so
        // the nightly redaction reads only the rows it changes, never the years already done.
        change.HasIndex(c => c.ChangedAt, "ix_customer_changes_personal_values")
            .HasFilter("field IN ('created', 'deleted', 'name', 'phone', 'email', 'city', 'address', 'notes', 'merged') " +
                       "AND (old_value IS NOT NULL OR new_value IS NOT NULL)")
            .HasDatabaseName("ix_customer_changes_personal_values");
        // The moves between categories by time (the dashboard's customers per category,
        // Crm.Api's CategoryHistory): a few rows a day among the statistics rows of every order.
        change.HasIndex(c => c.ChangedAt, "ix_customer_changes_category_history")
            .HasFilter("field IN ('category', 'created', 'deleted')")
            .HasDatabaseName("ix_customer_changes_category_history");
    }
}
