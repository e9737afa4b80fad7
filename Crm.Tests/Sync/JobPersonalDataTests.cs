using System.Net.Http.Json;
using Crm.Jobs.Customers;
using Crm.Jobs.Sync;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Crm.Tests.Sync;

// Hangfire keeps a job's arguments, display name, state data (its result) and parameters
// for days and shows them on its dashboard: the sync jobs put no personal data there, and
// the app logs none at Information and above.
public class JobPersonalDataTests(JobPersonalDataTests.Factory factory) : IClassFixture<JobPersonalDataTests.Factory>
{
    public sealed class Factory : CrmApiFactory
    {
        public CapturedLogs Logs { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        }
    }

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task AnOrderWriteAStatisticsJobAndADryRunLeaveNoPersonalDataInHangfireOrTheLog()
    {
        var (phone, newcomer) = (TestPhones.New(), TestPhones.New());
        var marker = Guid.NewGuid().ToString("N")[..8];
        var (name, email, city, address) = ($"Ivan Hidden{marker}", $"ivan.{marker}@example.com", $"Secretburg{marker}", $"{marker} Quiet Street");
        string[] personal = [phone, newcomer, phone[1..], newcomer[1..], name, email, city, address, $"Newcomer{marker}", $"Renamed{marker}"];

        // An order write: its customer is synced by the shared pending-writes job.
        var order = await (await _client.PostAsJsonAsync("/api/orders", new
        {
            customerName = name, customerPhone = phone, customerEmail = email, deliveryCity = city, deliveryAddress = address,
            totalAmount = 120, status = "completed",
        })).ReadJsonAsync();
        await _client.JobAsync((string)order["syncJobId"]!);
        var customerId = (long)(await _client.CustomerByPhoneAsync(phone))!["id"]!;

        // A statistics job, asked for by id.
        var stats = await (await _client.PostAsync($"/api/customers/{customerId}/update-stats", null)).ReadJsonAsync();
        await _client.JobAsync((string)stats["jobId"]!);

        // A dry run that would rename the customer and create another: its sample names fields, not values.
        await InsertOrderDirectlyAsync(phone, $"Renamed{marker}");
        await InsertOrderDirectlyAsync(newcomer, $"Newcomer{marker}");
        var dry = await (await _client.PostAsJsonAsync("/api/sync", new { mode = "force", dryRun = true })).ReadJsonAsync();
        var result = (await _client.JobAsync((string)dry["jobId"]!))["result"]!;

        var stored = await HangfireTextsAsync();
        foreach (var value in personal)
            Assert.DoesNotContain(stored, text => text.Contains(value, StringComparison.Ordinal));
        var lines = factory.Logs.AtLeast(LogLevel.Information);
        Assert.NotEmpty(lines);
        foreach (var value in personal)
            Assert.DoesNotContain(lines, line => line.Contains(value, StringComparison.Ordinal));

        // What Hangfire keeps instead: the customer's id as the statistics job's argument, and
        // a sample that names the customer and the field.
        Assert.Contains(stored, text => text.Contains($"[{customerId}]") || text.Contains($"\"{customerId}\""));
        var sample = result["sample"]!.AsArray();
        Assert.Contains(sample, change => (string?)change!["field"] == "name" && (long)change["customerId"]! == customerId);
        Assert.Contains(sample, change => (string?)change!["field"] == "created");
    }

    [Fact]
    public async Task AStatisticsJobOfACustomerDeletedMeanwhileSucceedsWithZeroCounts()
    {
        long customerId;
        await using (var db = factory.CreateDbContext())
        {
            var customer = new Customer { Name = "Soon Gone", Phone = TestPhones.New() };
            db.Customers.Add(customer);
            await db.SaveChangesAsync();
            customerId = customer.Id;
        }
        await factory.ExecuteAsync("DELETE FROM customers WHERE id = @id", ("id", customerId));

        string jobId;
        using (var scope = factory.Services.CreateScope())
            jobId = scope.ServiceProvider.GetRequiredService<SyncScheduler>().EnqueueStatistics(customerId);

        var result = (await _client.JobAsync(jobId))["result"]!;
        Assert.Equal((0, 0, 0), ((int)result["totalCustomers"]!, (int)result["createdCount"]!, (int)result["updatedCount"]!));
    }

    private async Task InsertOrderDirectlyAsync(string phone, string name)
    {
        await factory.ExecuteAsync("""
            INSERT INTO orders (customer_name, customer_phone, normalized_phone, customer_email, total_amount, status, created_at, updated_at)
            VALUES (@name, @phone, @phone, '', 80, 'completed', now(), now())
            """, ("name", name), ("phone", phone));
    }

    // Every text Hangfire stores about jobs: arguments, invocation data, states, parameters,
    // and the hashes, sets and lists it keeps beside them.
    private async Task<List<string>> HangfireTextsAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(factory.ConnectionString);
        await using var command = dataSource.CreateCommand("""
            SELECT invocationdata::text || ' ' || coalesce(arguments::text, '') FROM hangfire.job
            UNION ALL SELECT name || ' ' || coalesce(reason, '') || ' ' || coalesce(data::text, '') FROM hangfire.state
            UNION ALL SELECT name || ' ' || coalesce(value, '') FROM hangfire.jobparameter
            UNION ALL SELECT key || ' ' || field || ' ' || coalesce(value, '') FROM hangfire.hash
            UNION ALL SELECT key || ' ' || value FROM hangfire.set
            UNION ALL SELECT key || ' ' || coalesce(value, '') FROM hangfire.list
            """);
        await using var reader = await command.ExecuteReaderAsync();
        var texts = new List<string>();
        while (await reader.ReadAsync())
            texts.Add(reader.GetString(0));
        return texts;
    }
}
