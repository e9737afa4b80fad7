using Crm.Jobs.Data;
using Crm.Jobs.Phones;
using Crm.Jobs.Privacy;
using Crm.Jobs.Sync;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace Crm.Jobs.Orders;

// Bulk orders from NDJSON or CSV: every record is parsed and validated like POST /api/orders,
// bad records are reported and skipped, good ones are streamed into one binary COPY. The
// whole import is one transaction: a failure or a cancellation leaves nothing behind.
public sealed class OrderImporter(
    [FromKeyedServices(CrmDataSources.Jobs)] NpgsqlDataSource dataSource, PhoneNormalizer phones, IValidator<OrderInput> validator,
    ErasedPhones erasedPhones, TimeProvider clock)
{
    public const int MaxReportedErrors = 100;
    public const int MaxLineLength = 64 * 1024; // characters; longer lines (CSV: records) are rejected and skipped, never buffered whole
    public const int MaxCachedPhones = 100_000;

    // Binary COPY: the fastest way in for many rows, and one statement for the whole body.
    private const string CopySql = """
        COPY orders (customer_name, customer_phone, normalized_phone, customer_email, delivery_city,
                     delivery_address, total_amount, status, created_at, updated_at, source)
        FROM STDIN (FORMAT BINARY)
        """;

    private static readonly string ImportSource = EnumText.ToText(OrderSource.Import);

    public async Task<ImportResult> ImportAsync(Stream body, ImportFormat format, CancellationToken ct)
    {
        if (!Enum.IsDefined(format))
            throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown import format.");

        OrderRecords records;
        if (format == ImportFormat.Csv)
        {
            // A bad header makes every row meaningless: fail before touching the database.
            var (csv, headerError) = await CsvOrderRecords.OpenAsync(body, ct);
            if (csv is null)
                return new ImportResult(0, 0, 0, headerError is null ? [] : [headerError], 0);
            records = csv;
        }
        else
        {
            records = new NdjsonOrderRecords(body);
        }
        using var _ = records;

        var errors = new List<ImportError>();
        var rejected = 0;
        var now = clock.GetUtcNow().UtcDateTime;
        var imported = 0;
        var skipped = 0;
        var affected = new HashSet<string>(StringComparer.Ordinal);
        var phoneCache = new PhoneCache(phones, MaxCachedPhones);

        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var erased = await erasedPhones.LoadAsync(connection, transaction, ct);
        await using (var copy = await connection.BeginBinaryImportAsync(CopySql, ct))
        {
            while (await records.ReadAsync(ct))
            {
                // Data already buffered is not read from the body, so ask the token ourselves.
                ct.ThrowIfCancellationRequested();
                var order = records.Order;
                var reason = records.Reason;
                if (order is null && reason is null)
                    continue; // a blank line
                if (order is null || !OrderText.IsValid(validator, order, out reason))
                {
                    rejected++;
                    if (errors.Count < MaxReportedErrors)
                        errors.Add(new ImportError(records.Line, reason!));
                    continue;
                }

                var normalizedPhone = phoneCache.Normalize(order.CustomerPhone);
                // An erased person's order from before the erase: counted, never stored.
                if (erased.Skips(normalizedPhone, order.CreatedAt?.UtcDateTime ?? now))
                {
                    skipped++;
                    continue;
                }
                await WriteRowAsync(copy, order, normalizedPhone, now, ct);
                imported++;
                if (normalizedPhone is not null)
                    affected.Add(normalizedPhone);
            }
            await copy.CompleteAsync(ct);
        }

        if (affected.Count > 0)
            await SyncScheduler.RecordAsync(connection, transaction, affected, ct);
        await transaction.CommitAsync(ct);
        // A big load is planned for at once, not when autovacuum gets to it (its sync's statements first).
        await TableStatistics.AnalyzeIfManyChangedAsync(connection, "orders", imported, ct);
        return new ImportResult(imported, rejected, skipped, errors, affected.Count);
    }

    private static async Task WriteRowAsync(
        NpgsqlBinaryImporter copy, OrderInput order, string? normalizedPhone, DateTime now, CancellationToken ct)
    {
        await copy.StartRowAsync(ct);
        // The text columns are NOT NULL DEFAULT '': a missing value is stored as ''.
        await copy.WriteAsync(order.CustomerName ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.CustomerPhone ?? "", NpgsqlDbType.Varchar, ct);
        if (normalizedPhone is null)
            await copy.WriteNullAsync(ct);
        else
            await copy.WriteAsync(normalizedPhone, NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.CustomerEmail ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.DeliveryCity ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.DeliveryAddress ?? "", NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.TotalAmount!.Value, NpgsqlDbType.Numeric, ct);
        await copy.WriteAsync(OrderText.StatusTexts[order.Status ?? OrderStatus.New], NpgsqlDbType.Varchar, ct);
        await copy.WriteAsync(order.CreatedAt?.UtcDateTime ?? now, NpgsqlDbType.TimestampTz, ct);
        await copy.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
        await copy.WriteAsync(ImportSource, NpgsqlDbType.Varchar, ct);
    }
}
