using System.Text.Json.Nodes;
using Crm.Jobs.Data;
using Crm.Jobs.Orders;
using Microsoft.EntityFrameworkCore;

namespace Crm.Tests.Infrastructure;

// A cloned database for one test, dropped when it ends, and helpers to run commands against it.
internal sealed class CommandDatabase : IAsyncDisposable
{
    // A child process starts the whole .NET host: seconds on a busy machine, so be generous.
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private readonly string _name;

    private CommandDatabase(string name) => _name = name;

    public string ConnectionString => TestDatabase.ConnectionStringFor(_name);

    public static async Task<CommandDatabase> CreateAsync() => new(await TestDatabase.CreateAsync());

    public CrmDbContext CreateDbContext()
    {
        var options = new DbContextOptionsBuilder<CrmDbContext>();
        CrmDbContext.Configure(options, ConnectionString);
        return new CrmDbContext(options.Options);
    }

    public ValueTask DisposeAsync() => new(TestDatabase.DropAsync(_name));

    // Written straight into the table, as a shop bypassing the API would: only a sync sees it.
    public static Order Order(string? phone, string name, decimal amount, OrderStatus status, DateTime createdAt,
        string email = "", string city = "") => new()
        {
            CustomerName = name,
            CustomerPhone = phone ?? "не указан",
            NormalizedPhone = phone,
            CustomerEmail = email,
            DeliveryCity = city,
            TotalAmount = amount,
            Status = status,
            CreatedAt = createdAt,
            UpdatedAt = createdAt,
        };

    // Runs a command that must succeed and returns the JSON object it printed. Its standard
    // output is that object alone (`sync | jq` works); logs go to standard error.
    public static async Task<JsonNode> RunJsonAsync(string connectionString, params string[] args)
    {
        var result = await AppProcess.RunAsync(connectionString, Timeout, args);
        Assert.True(result.ExitCode == 0, $"{string.Join(' ', args)} exited {result.ExitCode}: {result.Output}");
        try
        {
            return JsonNode.Parse(result.StandardOutput)
                   ?? throw new InvalidOperationException($"Empty JSON on stdout:\n{result.StandardOutput}");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"stdout is not the JSON result alone ({e.Message}):\n{result.StandardOutput}");
        }
    }
}
