using System.Net;
using System.Text.Json.Nodes;
using Crm.Api.Customers;
using Crm.Api.Infrastructure;
using Crm.Jobs.Customers;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Customers;

// Filters, search, ordering and paging over a fixed set of customers.
public class CustomersListTests : IClassFixture<CustomersListTests.Fixture>
{
    private readonly HttpClient _client;

    public CustomersListTests(Fixture fixture) => _client = fixture.CreateClient();

    public sealed class Fixture : CrmApiFactory
    {
        private static readonly DateTime Day = new(2026, 10, 1, 0, 0, 0, DateTimeKind.Utc);

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await using var db = CreateDbContext();
            db.Customers.AddRange(
                Customer("Иван Иванов", "+79990000001", "ivan@example.com", CustomerCategory.Vip, 12, 150_000m, Day.AddDays(-1), created: 1),
                Customer("ПЁТР Сидоров", "+79990000002", "petr@mail.ru", CustomerCategory.Regular, 4, 20_000m, Day.AddDays(-10), created: 2),
                Customer("Anna Smith", "+79990000003", "ANNA@Example.org", CustomerCategory.New, 1, 3_000m, Day.AddDays(-5), created: 3),
                Customer("anatoly ivanov", "+79990000004", "", CustomerCategory.Inactive, 3, 9_000m, Day.AddDays(-300), created: 4),
                Customer("Борис", "+74951234567", "boris@example.com", CustomerCategory.New, 0, 0m, null, created: 5));
            await db.SaveChangesAsync();
        }

        private static Customer Customer(string name, string phone, string email, CustomerCategory category,
            int orders, decimal spent, DateTime? last, int created) => new()
            {
                Name = name, Phone = phone, Email = email, Category = category,
                TotalOrders = orders, TotalSpent = spent, AverageOrder = orders == 0 ? 0 : Math.Round(spent / orders, 2),
                LastOrderDate = last, CreatedAt = Day.AddHours(created), UpdatedAt = Day.AddHours(created),
            };
    }

    private async Task<PagedResponse<CustomerResponse>> ListAsync(string query)
    {
        var response = await _client.GetAsync("/api/customers" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadJsonAsync<PagedResponse<CustomerResponse>>();
    }

    private async Task<string[]> NamesAsync(string query) =>
        (await ListAsync(query)).Items.Select(c => c.Name).ToArray();

    [Fact]
    public async Task ListIsNewestFirstByDefaultWithPagingMetadata()
    {
        var page = await ListAsync("");
        Assert.Equal(5, page.TotalCount);
        Assert.True(page.TotalCountExact);
        Assert.Equal(1, page.Page);
        Assert.Equal(50, page.PageSize);
        Assert.Equal(["Борис", "anatoly ivanov", "Anna Smith", "ПЁТР Сидоров", "Иван Иванов"], await NamesAsync(""));
    }

    [Theory]
    [InlineData("vip", new[] { "Иван Иванов" })]
    [InlineData("regular", new[] { "ПЁТР Сидоров" })]
    [InlineData("inactive", new[] { "anatoly ivanov" })]
    [InlineData("new", new[] { "Борис", "Anna Smith" })]
    public async Task CategoryFilterReturnsOnlyThatCategory(string category, string[] expected) =>
        Assert.Equal(expected, await NamesAsync($"?category={category}"));

    [Theory]
    [InlineData("totalSpent", new[] { "Борис", "Anna Smith", "anatoly ivanov", "ПЁТР Сидоров", "Иван Иванов" })]
    [InlineData("-totalSpent", new[] { "Иван Иванов", "ПЁТР Сидоров", "anatoly ivanov", "Anna Smith", "Борис" })]
    [InlineData("-total_spent", new[] { "Иван Иванов", "ПЁТР Сидоров", "anatoly ivanov", "Anna Smith", "Борис" })]
    [InlineData("total_orders", new[] { "Борис", "Anna Smith", "anatoly ivanov", "ПЁТР Сидоров", "Иван Иванов" })]
    [InlineData("-totalOrders", new[] { "Иван Иванов", "ПЁТР Сидоров", "anatoly ivanov", "Anna Smith", "Борис" })]
    [InlineData("averageOrder", new[] { "Борис", "Anna Smith", "anatoly ivanov", "ПЁТР Сидоров", "Иван Иванов" })]
    [InlineData("-average_order", new[] { "Иван Иванов", "ПЁТР Сидоров", "anatoly ivanov", "Anna Smith", "Борис" })]
    [InlineData("createdAt", new[] { "Иван Иванов", "ПЁТР Сидоров", "Anna Smith", "anatoly ivanov", "Борис" })]
    [InlineData("-created_at", new[] { "Борис", "anatoly ivanov", "Anna Smith", "ПЁТР Сидоров", "Иван Иванов" })]
    [InlineData("lastOrderDate", new[] { "anatoly ivanov", "ПЁТР Сидоров", "Anna Smith", "Иван Иванов", "Борис" })]
    [InlineData("-last_order_date", new[] { "Иван Иванов", "Anna Smith", "ПЁТР Сидоров", "anatoly ivanov", "Борис" })]
    public async Task OrderingAcceptsCamelCaseAndSnakeCaseInBothDirections(string ordering, string[] expected) =>
        Assert.Equal(expected, await NamesAsync($"?ordering={ordering}"));

    [Fact]
    public async Task OrderingByNameFollowsTheDatabaseCollation()
    {
        var ascending = await NamesAsync("?ordering=name");
        var descending = await NamesAsync("?ordering=-name");
        Assert.Equal(5, ascending.Length);
        Assert.Equal(ascending.Reverse(), descending);
    }

    [Fact]
    public async Task PagesAreStableAndDoNotOverlap()
    {
        var first = await ListAsync("?ordering=totalSpent&page=1&pageSize=2");
        var second = await ListAsync("?ordering=totalSpent&page=2&pageSize=2");
        var third = await ListAsync("?ordering=totalSpent&page=3&pageSize=2");
        var beyond = await ListAsync("?ordering=totalSpent&page=4&pageSize=2");

        var names = new[] { first, second, third }
            .SelectMany(p => p.Items.Select(c => c.Name)).ToArray();
        Assert.Equal(["Борис", "Anna Smith", "anatoly ivanov", "ПЁТР Сидоров", "Иван Иванов"], names);
        Assert.Equal(5, third.TotalCount);
        Assert.Equal(3, third.Page);
        Assert.Empty(beyond.Items);
    }

    [Theory]
    [InlineData("иван", new[] { "Иван Иванов" })]
    [InlineData("ИВАНОВ", new[] { "Иван Иванов" })]
    [InlineData("пётр", new[] { "ПЁТР Сидоров" })]
    [InlineData("ivanov", new[] { "anatoly ivanov" })]
    [InlineData("IVANOV", new[] { "anatoly ivanov" })]
    [InlineData("anna", new[] { "Anna Smith" })]
    [InlineData("example.ORG", new[] { "Anna Smith" })]
    [InlineData("mail.ru", new[] { "ПЁТР Сидоров" })]
    [InlineData("0000002", new[] { "ПЁТР Сидоров" })]
    [InlineData("8 (495) 123-45-67", new[] { "Борис" })]
    [InlineData("495 123", new[] { "Борис" })]
    // Several words in any order, each in the name, e-mail or phone.
    [InlineData("Иванов Иван", new[] { "Иван Иванов" })]
    [InlineData("  иванов   ivan@ ", new[] { "Иван Иванов" })]
    [InlineData("ivanov anatoly", new[] { "anatoly ivanov" })]
    [InlineData("иван 0000001", new[] { "Иван Иванов" })]
    [InlineData("иван 0000002", new string[0])]
    [InlineData("smith example.org", new[] { "Anna Smith" })]
    // ё and е are one letter to search.
    [InlineData("петр", new[] { "ПЁТР Сидоров" })]
    [InlineData("сидоров пётр", new[] { "ПЁТР Сидоров" })]
    // A phone fragment in any spelling, a leading 8 read as the country code 7.
    [InlineData("8 495 123", new[] { "Борис" })]
    [InlineData("+7 (495) 123", new[] { "Борис" })]
    [InlineData("7-495-12", new[] { "Борис" })]
    [InlineData("8 999 000 00 03", new[] { "Anna Smith" })]
    [InlineData("anna 8 999", new[] { "Anna Smith" })]
    [InlineData("nobody", new string[0])]
    [InlineData("100%", new string[0])]
    [InlineData("_", new string[0])]
    public async Task SearchIsCaseInsensitiveOverNameEmailAndPhone(string search, string[] expected)
    {
        var names = await NamesAsync($"?search={Uri.EscapeDataString(search)}&ordering=name");
        Assert.Equal(expected.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task FiltersCombine()
    {
        Assert.Equal(["anatoly ivanov"], await NamesAsync("?search=an&category=inactive"));
        Assert.Equal(0, (await ListAsync("?search=борис&category=vip")).TotalCount);
    }

    [Theory]
    [InlineData("?category=gold", "category")]
    [InlineData("?category=VIP", "category")]
    [InlineData("?ordering=phone", "ordering")]
    [InlineData("?ordering=--name", "ordering")]
    [InlineData("?ordering=", "ordering")]
    [InlineData("?page=0", "page")]
    [InlineData("?page=-1", "page")]
    [InlineData("?page=abc", "page")]
    [InlineData("?page=99999999999", "page")]
    [InlineData("?pageSize=0", "pageSize")]
    [InlineData("?pageSize=201", "pageSize")]
    [InlineData("?pageSize=1.5", "pageSize")]
    public async Task InvalidListParametersAreRejectedNamingTheParameter(string query, string field) =>
        await (await _client.GetAsync("/api/customers" + query)).AssertValidationErrorAsync(field);

    [Fact]
    public async Task PageSizeBoundsAreInclusive()
    {
        Assert.Single((await ListAsync("?pageSize=1")).Items);
        Assert.Equal(200, (await ListAsync("?pageSize=200")).PageSize);
    }
}
