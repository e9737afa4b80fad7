using System.Net;
using System.Net.Http.Json;
using Crm.Api.Customers;
using Crm.Jobs.Customers;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Customers;

public class CustomersCrudTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<long> CreateAsync(string phone, string name = "Иван Петров")
    {
        var response = await _client.PostAsJsonAsync("/api/customers", new { name, phone });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadJsonAsync<CustomerResponse>()).Id;
    }

    [Fact]
    public async Task CreatingCustomerReturnsCreatedWithLocationAndNormalisedPhone()
    {
        var response = await _client.PostAsJsonAsync("/api/customers", new
        {
            name = "  Анна Смирнова ",
            phone = "8 (912) 555-01-02",
            email = "anna@example.com",
            city = "Казань",
            address = "ул. Баумана, 1",
            notes = "Prefers evening delivery",
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.ReadJsonAsync<CustomerResponse>();
        Assert.Equal($"/api/customers/{body.Id}", response.Headers.Location?.ToString());
        Assert.Equal("+79125550102", body.Phone);
        Assert.Equal("Анна Смирнова", body.Name);
        Assert.Equal(CustomerCategory.New, body.Category);
        Assert.Equal(0, body.TotalOrders);
        Assert.Equal(0m, body.TotalSpent);
        Assert.Null(body.LastOrderDate);
        Assert.Equal(factory.Clock.GetUtcNow().UtcDateTime, body.CreatedAt);

        var fetched = await (await _client.GetAsync(response.Headers.Location)).ReadJsonAsync<CustomerResponse>();
        Assert.Equal("Казань", fetched.City);
        Assert.Equal("Prefers evening delivery", fetched.Notes);
    }

    // The longest phone E.164 allows (15 digits) fits the table: what passes validation is stored.
    [Fact]
    public async Task TheLongestValidPhoneIsStored()
    {
        var response = await _client.PostAsJsonAsync("/api/customers", new { name = "Длинный Номер", phone = "+49 3012345678901" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("+493012345678901", (await response.ReadJsonAsync<CustomerResponse>()).Phone);
    }

    [Fact]
    public async Task CreatingCustomerWithTakenPhoneReturnsConflictNamingTheExistingId()
    {
        var id = await CreateAsync("+7 901 111 22 33");

        var response = await _client.PostAsJsonAsync("/api/customers", new { name = "Другой", phone = "8 (901) 111-22-33" });

        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal(id, (long)problem["existingId"]!);
        Assert.NotNull(problem["errors"]!["phone"]);
    }

    [Fact]
    public async Task ConcurrentCreatesOfOnePhoneCreateExactlyOneCustomer()
    {
        // Different spellings of one number, sent at once: only the unique index can decide.
        string[] spellings = ["+7 902 333 44 55", "8 (902) 333-44-55", "9023334455", "+79023334455"];
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            factory.CreateClient().PostAsJsonAsync("/api/customers", new { name = $"Racer {i}", phone = spellings[i % 4] })));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var winner = await responses.Single(r => r.StatusCode == HttpStatusCode.Created).ReadJsonAsync();
        foreach (var loser in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
            Assert.Equal((long)winner["id"]!, (long)(await loser.ReadJsonAsync())["existingId"]!);

        await using var db = factory.CreateDbContext();
        Assert.Equal(1, await db.Customers.CountAsync(c => c.Phone == "+79023334455"));
    }

    [Fact]
    public async Task GettingUnknownCustomerReturnsNotFoundProblem()
    {
        var response = await _client.GetAsync("/api/customers/987654321");
        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PutReplacesEveryEditableFieldAndClearsOmittedOptionalOnes()
    {
        var response = await _client.PostAsJsonAsync("/api/customers", new
        {
            name = "Old Name", phone = TestPhones.New(), email = "old@example.com", city = "Тверь", notes = "old",
        });
        var id = (await response.ReadJsonAsync<CustomerResponse>()).Id;
        var newPhone = TestPhones.New();
        factory.Clock.Advance(TimeSpan.FromMinutes(5));

        var put = await _client.PutAsJsonAsync($"/api/customers/{id}", new { name = "New Name", phone = newPhone, city = "Москва" });

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var body = await put.ReadJsonAsync<CustomerResponse>();
        Assert.Equal("New Name", body.Name);
        Assert.Equal(newPhone, body.Phone);
        Assert.Equal("Москва", body.City);
        Assert.Equal("", body.Email);
        Assert.Equal("", body.Notes);
        Assert.True(body.UpdatedAt > body.CreatedAt);
    }

    [Fact]
    public async Task PutWithoutRequiredFieldsNamesThem()
    {
        var id = await CreateAsync(TestPhones.New());
        var response = await _client.PutAsJsonAsync($"/api/customers/{id}", new { city = "Москва" });
        var problem = await response.AssertValidationErrorAsync("name");
        Assert.NotNull(problem["errors"]!["phone"]);
    }

    [Fact]
    public async Task ChangingPhoneToATakenOneReturnsConflictAndChangesNothing()
    {
        var takenPhone = TestPhones.New();
        var ownerId = await CreateAsync(takenPhone);
        var originalPhone = TestPhones.New();
        var id = await CreateAsync(originalPhone, "Second");

        var put = await _client.PutAsJsonAsync($"/api/customers/{id}", new { name = "Renamed", phone = takenPhone });
        var patch = await _client.PatchJsonAsync($"/api/customers/{id}", new { name = "Renamed", phone = takenPhone });

        Assert.Equal(ownerId, (long)(await put.AssertProblemAsync(HttpStatusCode.Conflict))["existingId"]!);
        Assert.Equal(ownerId, (long)(await patch.AssertProblemAsync(HttpStatusCode.Conflict))["existingId"]!);
        await using var db = factory.CreateDbContext();
        var unchanged = await db.Customers.SingleAsync(c => c.Id == id);
        Assert.Equal(("Second", originalPhone), (unchanged.Name, unchanged.Phone));
    }

    [Fact]
    public async Task PatchChangesOnlyTheFieldsSent()
    {
        var phone = TestPhones.New();
        var created = await _client.PostAsJsonAsync("/api/customers", new
        {
            name = "Пётр", phone, email = "petr@example.com", city = "Омск", address = "ул. Ленина, 5", notes = "VIP-кандидат",
        });
        var id = (await created.ReadJsonAsync<CustomerResponse>()).Id;

        var patch = await _client.PatchJsonAsync($"/api/customers/{id}", new { city = "Томск", email = "" });

        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        var body = await patch.ReadJsonAsync<CustomerResponse>();
        Assert.Equal("Томск", body.City);
        Assert.Equal("", body.Email);
        Assert.Equal("Пётр", body.Name);
        Assert.Equal(phone, body.Phone);
        Assert.Equal("ул. Ленина, 5", body.Address);
        Assert.Equal("VIP-кандидат", body.Notes);
    }

    [Fact]
    public async Task PatchWithAnInvalidPhoneIsRejectedAndChangesNothing()
    {
        var phone = TestPhones.New();
        var id = await CreateAsync(phone, "Keep Me");

        var response = await _client.PatchJsonAsync($"/api/customers/{id}", new { name = "Changed", phone = "12" });

        await response.AssertValidationErrorAsync("phone");
        await using var db = factory.CreateDbContext();
        Assert.Equal("Keep Me", (await db.Customers.SingleAsync(c => c.Id == id)).Name);
    }

    [Fact]
    public async Task PatchOrPutOfUnknownCustomerReturnsNotFound()
    {
        await (await _client.PatchJsonAsync("/api/customers/987654321", new { city = "Сочи" }))
            .AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _client.PutAsJsonAsync("/api/customers/987654321", new { name = "X", phone = TestPhones.New() }))
            .AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("category", "\"vip\"")]
    [InlineData("totalOrders", "10")]
    [InlineData("totalSpent", "100000")]
    [InlineData("averageOrder", "500")]
    [InlineData("lastOrderDate", "\"2026-01-01T00:00:00Z\"")]
    [InlineData("id", "42")]
    [InlineData("createdAt", "\"2020-01-01T00:00:00Z\"")]
    [InlineData("updatedAt", "\"2020-01-01T00:00:00Z\"")]
    public async Task ClientsCannotWriteComputedFields(string field, string value)
    {
        var phone = TestPhones.New();
        var create = await _client.PostRawAsync("/api/customers", $$"""{"name":"Hacker","phone":"{{phone}}","{{field}}":{{value}}}""");
        await create.AssertValidationErrorAsync(field);

        var id = await CreateAsync(phone);
        var patch = await _client.SendRawAsync(HttpMethod.Patch, $"/api/customers/{id}", $$"""{"{{field}}":{{value}}}""");
        await patch.AssertValidationErrorAsync(field);
        var put = await _client.SendRawAsync(HttpMethod.Put, $"/api/customers/{id}", $$"""{"name":"X","phone":"{{phone}}","{{field}}":{{value}}}""");
        await put.AssertValidationErrorAsync(field);

        await using var db = factory.CreateDbContext();
        var customer = await db.Customers.SingleAsync(c => c.Id == id);
        Assert.Equal((CustomerCategory.New, 0, 0m, "Иван Петров"), (customer.Category, customer.TotalOrders, customer.TotalSpent, customer.Name));
        Assert.Equal(0, await db.Customers.CountAsync(c => c.Name == "Hacker"));
    }

    [Fact]
    public async Task DeletingCustomerRemovesItAndItsNotes()
    {
        var id = await CreateAsync(TestPhones.New());
        await _client.PostAsJsonAsync($"/api/customers/{id}/notes", new { note = "called back" });

        var delete = await _client.DeleteAsync($"/api/customers/{id}");

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await (await _client.GetAsync($"/api/customers/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _client.DeleteAsync($"/api/customers/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await using var db = factory.CreateDbContext();
        Assert.Equal(0, await db.CustomerNotes.CountAsync(n => n.CustomerId == id));
    }

    [Fact]
    public async Task NotesAreListedNewestFirstWithTheirAuthor()
    {
        var id = await CreateAsync(TestPhones.New());
        var first = await _client.PostAsJsonAsync($"/api/customers/{id}/notes", new { note = "Первый звонок" });
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await _client.PostAsJsonAsync($"/api/customers/{id}/notes", new { note = "Second call" });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var created = await first.ReadJsonAsync<NoteResponse>();
        Assert.Equal(TestKeys.Admin.Name, created.CreatedBy);
        Assert.Equal(id, created.CustomerId);

        var notes = await (await _client.GetAsync($"/api/customers/{id}/notes")).ReadJsonAsync<NoteResponse[]>();
        Assert.Equal(["Second call", "Первый звонок"], notes.Select(n => n.Note));
    }

    [Fact]
    public async Task NotesOfUnknownCustomerReturnNotFound()
    {
        await (await _client.GetAsync("/api/customers/987654321/notes")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _client.PostAsJsonAsync("/api/customers/987654321/notes", new { note = "hello" }))
            .AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"note":""}""")]
    [InlineData("""{"note":null}""")]
    [InlineData("""{"note":"bad\u0000char"}""")]
    public async Task InvalidNotesAreRejectedNamingTheField(string body)
    {
        var id = await CreateAsync(TestPhones.New());
        var response = await _client.PostRawAsync($"/api/customers/{id}/notes", body);
        await response.AssertValidationErrorAsync("note");
        await using var db = factory.CreateDbContext();
        Assert.Equal(0, await db.CustomerNotes.CountAsync(n => n.CustomerId == id));
    }
}
