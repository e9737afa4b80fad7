using System.Net;
using System.Net.Http.Json;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Reliability;

// A customer that syncs keep changing (a busy customer's row changes with every order)
// while an operator edits it without If-Match: the last write wins, never a 500.
public class CustomerEditUnderChurnTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    [Fact]
    public async Task AnUnconditionalPatchOfACustomerWhoseRowKeepsChangingIsNeverA500()
    {
        var client = factory.CreateClient();
        var created = await (await client.PostAsJsonAsync("/api/customers", new { name = "Занятой Клиент", phone = "+79984000001" })).ReadJsonAsync();
        var id = (long)created["id"]!;

        // Two sessions change the row as fast as they can, as syncs of a busy customer do.
        using var stop = new CancellationTokenSource();
        var churn = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(factory.ConnectionString);
            await connection.OpenAsync();
            await using var touch = new NpgsqlCommand("UPDATE customers SET updated_at = clock_timestamp() WHERE id = @id", connection);
            touch.Parameters.AddWithValue("id", id);
            while (!stop.IsCancellationRequested)
                await touch.ExecuteNonQueryAsync();
        })).ToList();
        var statuses = new List<HttpStatusCode>();
        try
        {
            for (var i = 0; i < 30; i++)
                statuses.Add((await client.PatchJsonAsync($"/api/customers/{id}", new { notes = $"правка {i}" })).StatusCode);
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(churn);
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }
}
