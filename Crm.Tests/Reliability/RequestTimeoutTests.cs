using System.Net;
using System.Net.Http.Json;
using Crm.Jobs.Data;
using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Reliability;

// Per operation: a read's statements time out after Crm:Database:CommandTimeout (2 s), a
// write's after Crm:Database:WriteCommandTimeout, because a write may wait for the other
// writes of its customer (they all update the customer's sync request row).
public class RequestTimeoutTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    [Fact]
    public async Task AWriteWaitingLongerThanTheReadTimeoutForItsCustomersRowSucceeds()
    {
        var client = factory.CreateClient();
        const string phone = "+79990001122";
        var first = await client.PostAsJsonAsync("/api/orders", new { customerPhone = phone, totalAmount = 10, status = "completed" });
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // Another writer of the same customer, still in its transaction.
        await using var holder = new NpgsqlConnection(factory.ConnectionString);
        await holder.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var take = new NpgsqlCommand("SELECT count(*) FROM (SELECT 1 FROM customer_sync_requests WHERE phone = @phone FOR UPDATE) locked", holder, transaction))
        {
            take.Parameters.AddWithValue("phone", phone);
            Assert.Equal(1L, await take.ExecuteScalarAsync());
        }

        var write = client.PostAsJsonAsync("/api/orders", new { customerPhone = phone, totalAmount = 20, status = "completed" });
        var readTimeout = new DatabaseOptions().CommandTimeout;
        // Watched from a connection of its own: inside a transaction pg_stat_activity is a snapshot.
        await using var watcher = new NpgsqlConnection(factory.ConnectionString);
        await watcher.OpenAsync();
        await Waiting.UntilAsync(async () => write.IsCompleted ? TimeSpan.MaxValue : await LongestLockWaitAsync(watcher),
            waited => waited > readTimeout + TimeSpan.FromSeconds(1), "the write to wait for the row longer than a read may");
        await transaction.CommitAsync();

        var response = await write;
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static async Task<TimeSpan> LongestLockWaitAsync(NpgsqlConnection watcher)
    {
        await using var command = new NpgsqlCommand("""
            SELECT coalesce(max(now() - query_start), interval '0')
            FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
            """, watcher);
        return (TimeSpan)(await command.ExecuteScalarAsync())!;
    }
}
