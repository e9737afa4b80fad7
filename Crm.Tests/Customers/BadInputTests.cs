using System.Net;
using System.Net.Http.Json;
using Crm.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Customers;

// Every malformed request gets a 4xx problem details response naming the field, never a
// 500 or a stack trace, and writes nothing. Run in Production and in Development, where
// ASP.NET Core would otherwise answer binding failures with a 500 developer page.
public abstract class BadInputTests<TFactory>(TFactory factory) where TFactory : CrmApiFactory
{
    private readonly HttpClient _client = factory.CreateClient();

    public static TheoryData<string, string, string> MalformedBodies => new()
    {
        // body, field named, description
        { """{"name":"Иван","phone":"+79990001122" """, "body", "truncated JSON" },
        { """{"name":"Иван",,"phone":"+79990001122"}""", "body", "double comma" },
        { """not json at all""", "body", "plain text" },
        { """[]""", "body", "array instead of object" },
        { """ "just a string" """, "body", "string instead of object" },
        { """{"name":123,"phone":"+79990001122"}""", "name", "number for a string" },
        { """{"name":"Иван","phone":79990001122}""", "phone", "number for a phone" },
        { """{"name":"Иван","phone":true}""", "phone", "boolean for a phone" },
        { """{"name":"Иван","phone":"+79990001122","email":["a@b.c"]}""", "email", "array for a string" },
        { """{"name":"Иван","phone":"+79990001122","notes":{"a":1}}""", "notes", "object for a string" },
        { """{"name":null,"phone":"+79990001122"}""", "name", "null name" },
        { """{"phone":"+79990001122"}""", "name", "missing name" },
        { """{"name":"Иван"}""", "phone", "missing phone" },
        { """{"name":"Иван","phone":null}""", "phone", "null phone" },
        { """{"name":"Иван","phone":""}""", "phone", "empty phone" },
        { """{"name":"   ","phone":"+79990001122"}""", "name", "blank name" },
        { """{"name":"Иван","phone":"12"}""", "phone", "too short phone" },
        { """{"name":"Иван","phone":"😀😀😀😀😀😀😀😀😀😀😀"}""", "phone", "emoji phone" },
        { """{"name":"Иван","phone":"+7 999 abc 45 67"}""", "phone", "letters in phone" },
        { """{"name":"Иван","phone":"+79990001122","email":"not-an-email"}""", "email", "bad email" },
        { """{"name":"Иван\u0000","phone":"+79990001122"}""", "name", "NUL in name" },
        { """{"name":"Иван\nПетров","phone":"+79990001122"}""", "name", "line break in name" },
        { """{"name":"Иван","phone":"+79990001122","city":"Мо\u0007сква"}""", "city", "bell in city" },
        { $$"""{"name":"{{new string('я', 201)}}","phone":"+79990001122"}""", "name", "201-character name" },
        { $$"""{"name":"Иван","phone":"+79990001122","city":"{{new string('c', 101)}}"}""", "city", "101-character city" },
        { $$"""{"name":"Иван","phone":"+79990001122","address":"{{new string('a', 501)}}"}""", "address", "501-character address" },
        { $$"""{"name":"Иван","phone":"+79990001122","email":"{{new string('e', 250)}}@x.ru"}""", "email", "255-character email" },
        { $$"""{"name":"Иван","phone":"+79990001122","notes":"{{new string('n', 10_001)}}"}""", "notes", "10001-character notes" },
        { $$"""{"name":"Иван","phone":"{{new string('9', 60)}}"}""", "phone", "60 digits" },
        { """{"name":"Иван","phone":"+49 301234567890123"}""", "phone", "17-digit possible German number (E.164 allows 15)" },
        { """{"name":"Иван","phone":"+79990001122","totalSpent":1e400}""", "totalSpent", "overflowing computed field" },
        { """{"name":"Иван","phone":"+79990001122","unknown":1}""", "unknown", "unknown field" },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task MalformedCreateIsRejectedNamingTheFieldAndWritesNothing(string body, string field, string description)
    {
        var before = await CountCustomersAsync();
        var response = await _client.PostRawAsync("/api/customers", body);
        await response.AssertValidationErrorAsync(field);
        Assert.True(before == await CountCustomersAsync(), description);
    }

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task MalformedReplaceIsRejectedNamingTheFieldAndChangesNothing(string body, string field, string description)
    {
        var id = await CreateAsync();
        var response = await _client.SendRawAsync(HttpMethod.Put, $"/api/customers/{id}", body);
        await response.AssertValidationErrorAsync(field);
        await AssertUnchangedAsync(id, description);
    }

    [Theory]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{"phone":""}""", "phone")]
    [InlineData("""{"phone":"abc"}""", "phone")]
    [InlineData("""{"email":"@@"}""", "email")]
    [InlineData("""{"city":5}""", "city")]
    [InlineData("""{"name":"ok","category":"vip"}""", "category")]
    [InlineData("""{"name":"ok",""", "body")]
    public async Task MalformedPatchIsRejectedNamingTheFieldAndChangesNothing(string body, string field)
    {
        var id = await CreateAsync();
        var response = await _client.SendRawAsync(HttpMethod.Patch, $"/api/customers/{id}", body);
        await response.AssertValidationErrorAsync(field);
        await AssertUnchangedAsync(id, body);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("99999999999999999999")]
    [InlineData("0x10")]
    [InlineData("%20")]
    public async Task MalformedRouteIdIsABadRequestNamingId(string id)
    {
        foreach (var response in new[]
        {
            await _client.GetAsync($"/api/customers/{id}"),
            await _client.DeleteAsync($"/api/customers/{id}"),
            await _client.PutAsJsonAsync($"/api/customers/{id}", new { name = "X", phone = "+79990001122" }),
            await _client.PatchJsonAsync($"/api/customers/{id}", new { name = "X" }),
            await _client.GetAsync($"/api/customers/{id}/notes"),
            await _client.PostAsJsonAsync($"/api/customers/{id}/notes", new { note = "x" }),
        })
        {
            await response.AssertValidationErrorAsync("id");
        }
    }

    [Fact]
    public async Task MissingBodyIsABadRequest()
    {
        var response = await _client.PostAsync("/api/customers", new StringContent("", System.Text.Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task WrongContentTypeIsUnsupportedMediaType()
    {
        var before = await CountCustomersAsync();
        var response = await _client.PostRawAsync("/api/customers", """{"name":"Иван","phone":"+79990001122"}""", "text/plain");
        await response.AssertProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Equal(before, await CountCustomersAsync());
    }

    [Fact]
    public async Task UnknownRouteIsNotFoundProblem() =>
        await (await _client.GetAsync("/api/nothing-here")).AssertProblemAsync(HttpStatusCode.NotFound);

    [Fact]
    public async Task WrongMethodIsMethodNotAllowedProblem() =>
        await (await _client.DeleteAsync("/api/customers")).AssertProblemAsync(HttpStatusCode.MethodNotAllowed);

    private async Task<long> CreateAsync()
    {
        var phone = TestPhones.New();
        var response = await _client.PostAsJsonAsync("/api/customers", new { name = "Original", phone, city = "Пермь" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (long)(await response.ReadJsonAsync())["id"]!;
    }

    private async Task AssertUnchangedAsync(long id, string description)
    {
        await using var db = factory.CreateDbContext();
        var customer = await db.Customers.SingleAsync(c => c.Id == id);
        Assert.True(("Original", "Пермь") == (customer.Name, customer.City), description);
        Assert.Equal(customer.CreatedAt, customer.UpdatedAt);
    }

    private async Task<int> CountCustomersAsync()
    {
        await using var db = factory.CreateDbContext();
        return await db.Customers.CountAsync();
    }
}
