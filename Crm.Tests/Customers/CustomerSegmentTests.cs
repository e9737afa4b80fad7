using System.Net;
using Crm.Api.Customers;
using Crm.Api.Infrastructure;
using Crm.Jobs.Customers;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Customers;

// GET /api/customers as a segment: "VIPs in Kazan who haven't ordered for 60 days". Every
// filter given must hold; they combine with search and ordering; bad values are a 400 naming
// the parameter.
public class CustomerSegmentTests : IClassFixture<CustomerSegmentTests.Fixture>
{
    private readonly HttpClient _client;

    public CustomerSegmentTests(Fixture fixture) => _client = fixture.CreateClient();

    private static readonly DateTime Day = new(2026, 10, 1, 0, 0, 0, DateTimeKind.Utc);

    public sealed class Fixture : CrmApiFactory
    {
        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await using var db = CreateDbContext();
            db.Customers.AddRange(
                Customer("Анна", "Казань", CustomerCategory.Vip, 12, 150_000m, Day.AddDays(-1), created: 1),
                Customer("Борис", "казань", CustomerCategory.Regular, 4, 20_000m, Day.AddDays(-70), created: 2),
                Customer("Вера", "Москва", CustomerCategory.Vip, 15, 300_000m, Day.AddDays(-100), created: 3),
                Customer("Глеб", "Казань", CustomerCategory.New, 0, 0m, null, created: 4),
                Customer("Дарья", " Самара ", CustomerCategory.Inactive, 3, 9_000m, Day.AddDays(-300), created: 5),
                Customer("Егор", "КАЗАНЬ", CustomerCategory.Vip, 11, 120_000m, Day.AddDays(-90), created: 6));
            await db.SaveChangesAsync();
        }

        private static Customer Customer(string name, string city, CustomerCategory category, int orders, decimal spent, DateTime? last, int created) => new()
        {
            Name = name, Phone = TestPhones.New(), City = city, Category = category,
            TotalOrders = orders, TotalSpent = spent, AverageOrder = orders == 0 ? 0 : Math.Round(spent / orders, 2),
            LastOrderDate = last, CreatedAt = Day.AddHours(created), UpdatedAt = Day.AddHours(created),
        };
    }

    private async Task<string[]> NamesAsync(string query)
    {
        var response = await _client.GetAsync("/api/customers?pageSize=200&" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.ReadJsonAsync<PagedResponse<CustomerResponse>>()).Items.Select(c => c.Name).ToArray();
    }

    private static string Iso(DateTime at) => Uri.EscapeDataString(at.ToString("O"));

    [Theory]
    [InlineData("category=vip&category=regular&ordering=name", new[] { "Анна", "Борис", "Вера", "Егор" })]
    [InlineData("city=КАЗАНЬ&ordering=name", new[] { "Анна", "Борис", "Глеб", "Егор" })]
    [InlineData("city=самара", new[] { "Дарья" })]
    [InlineData("minSpent=20000&maxSpent=150000&ordering=name", new[] { "Анна", "Борис", "Егор" })]
    [InlineData("minOrders=4&maxOrders=12&ordering=name", new[] { "Анна", "Борис", "Егор" })]
    [InlineData("maxOrders=0", new[] { "Глеб" })]
    [InlineData("category=vip&ordering=-totalSpent", new[] { "Вера", "Анна", "Егор" })]
    [InlineData("category=vip&search=ег", new[] { "Егор" })]
    [InlineData("city=Уфа", new string[0])]
    public async Task FiltersSelectTheSegment(string query, string[] expected) =>
        Assert.Equal(expected, await NamesAsync(query));

    [Fact]
    public async Task VipsInKazanWhoHaveNotOrderedForSixtyDays()
    {
        Assert.Equal(["Егор"], await NamesAsync($"category=vip&city=Казань&lastOrderTo={Iso(Day.AddDays(-60))}"));
        Assert.Equal(["Анна"], await NamesAsync($"city=Казань&lastOrderFrom={Iso(Day.AddDays(-60))}"));
        Assert.Equal(["Вера", "Глеб"], await NamesAsync(
            $"createdFrom={Iso(Day.AddHours(3))}&createdTo={Iso(Day.AddHours(4))}&ordering=name"));
        // A date alone is that day's start, UTC.
        Assert.Equal(["Анна", "Борис", "Вера", "Дарья", "Егор"], await NamesAsync("lastOrderTo=2026-10-01&ordering=name"));
    }

    [Theory]
    [InlineData("category=gold", "category")]
    [InlineData("category=vip&category=gold", "category")]
    [InlineData("minSpent=abc", "minSpent")]
    [InlineData("minSpent=-1", "minSpent")]
    [InlineData("minSpent=10&maxSpent=5", "maxSpent")]
    [InlineData("minOrders=1.5", "minOrders")]
    [InlineData("minOrders=5&maxOrders=4", "maxOrders")]
    [InlineData("maxOrders=-1", "maxOrders")]
    [InlineData("lastOrderFrom=yesterday", "lastOrderFrom")]
    [InlineData("lastOrderFrom=2026-10-02&lastOrderTo=2026-10-01", "lastOrderTo")]
    [InlineData("createdFrom=2026-10-02&createdTo=2026-10-01", "createdTo")]
    [InlineData("createdTo=2026-13-01", "createdTo")]
    public async Task BadValuesAreRefusedNamingTheParameter(string query, string parameter) =>
        await (await _client.GetAsync("/api/customers?" + query)).AssertValidationErrorAsync(parameter);
}
