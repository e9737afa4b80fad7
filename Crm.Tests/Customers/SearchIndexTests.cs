using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Customers;

// Search must stay an index lookup with hundreds of thousands of customers, for Cyrillic
// as well as Latin text: the trigram index on search_text has to be usable for both.
public class SearchIndexTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    [Theory]
    [InlineData("иванов")]
    [InlineData("smith")]
    [InlineData("9991234")]
    public async Task SubstringSearchUsesTheTrigramIndex(string term)
    {
        await using var db = factory.CreateDbContext();
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO customers (name, phone, email)
            SELECT CASE i % 1000 WHEN 0 THEN 'Иванов Пётр' WHEN 1 THEN 'John Smith' ELSE 'Покупатель ' || md5(i::text) END,
                   '+7999' || lpad(i::text, 7, '0'),
                   'user' || i || '@example.com'
            FROM generate_series(1, 30000) AS i
            ON CONFLICT (phone) DO NOTHING
            """);
        // As autovacuum would: flush the GIN pending list and refresh statistics.
        await db.Database.ExecuteSqlRawAsync("VACUUM ANALYZE customers");

        var pattern = $"%{term}%";
        var plan = string.Join('\n', await db.Database
            .SqlQuery<string>($"EXPLAIN SELECT id FROM customers WHERE search_text LIKE {pattern}")
            .ToListAsync());

        Assert.Contains("ix_customers_search_text", plan);
    }
}
