using Crm.Api.Customers;
using Crm.Jobs.Phones;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Tests.Customers;

// Search must stay an index lookup with hundreds of thousands of customers, for Cyrillic
// as well as Latin text: the trigram index on search_text has to be usable for both, for
// every word of a query and for both readings of a phone fragment.
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

    [Theory]
    [InlineData("Пётр Иванов")]
    [InlineData("8 999 000 12")]
    [InlineData("smith 0001001")]
    [InlineData("8 (999) 000-10-01")]
    [InlineData("+7 999 000 1001")]
    public async Task EveryWordAndPhoneFragmentIsAnIndexLookup(string search)
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
        await db.Database.ExecuteSqlRawAsync("VACUUM ANALYZE customers");
        var phones = new PhoneNormalizer(Options.Create(new PhoneOptions()));

        var query = CustomerSearch.Apply(db.Customers, db.CustomerPhones, search, phones).Select(c => c.Id);
        await using var command = query.CreateDbCommand();
        var plan = await Plans.ExplainAnalyzeAsync(factory.ConnectionString, command.CommandText,
            command.Parameters.Cast<NpgsqlParameter>().ToDictionary(p => p.ParameterName, p => p.Value!));

        Assert.Contains("ix_customers_search_text", plan);
        Assert.DoesNotContain("Seq Scan on customers", plan);
        Assert.True(await query.AnyAsync(), $"{search} found nobody");
    }

    // A segment by city (GET /api/customers?city=…) reads its customers by the folded-city index.
    [Fact]
    public async Task ACityFilterIsAnIndexLookup()
    {
        await using var db = factory.CreateDbContext();
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO customers (name, phone, email, city)
            SELECT 'Покупатель ' || i, '+7998' || lpad(i::text, 7, '0'), '', (ARRAY['Москва', 'Казань', 'Самара', 'Уфа', 'Пермь'])[1 + i % 5]
            FROM generate_series(1, 30000) AS i
            ON CONFLICT (phone) DO NOTHING
            """);
        await db.Database.ExecuteSqlRawAsync("UPDATE customers SET city = 'Нижний Тагил' WHERE phone = '+79980000007'");
        await db.Database.ExecuteSqlRawAsync("VACUUM ANALYZE customers");

        var query = CustomerFilters.Apply(db.Customers, new CustomerListQuery(City: " нижний ТАГИЛ "), DateTime.UtcNow).Select(c => c.Id);
        await using var command = query.CreateDbCommand();
        var plan = await Plans.ExplainAnalyzeAsync(factory.ConnectionString, command.CommandText,
            command.Parameters.Cast<NpgsqlParameter>().ToDictionary(p => p.ParameterName, p => p.Value!));

        Assert.True(plan.Contains("ix_customers_city_folded") && !plan.Contains("Seq Scan on customers"), plan);
        Assert.Single(await query.ToListAsync());
    }
}
