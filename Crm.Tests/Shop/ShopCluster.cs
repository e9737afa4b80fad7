using Crm.Tests.Infrastructure;
using Npgsql;

namespace Crm.Tests.Shop;

// The shop's own PostgreSQL: a second real cluster with wal_level = logical, holding one
// Django-shaped database per test (CREATE TABLE as Django's migration for the Order model
// writes it). Slots are per cluster, so each test's follower gets a slot of its own.
public sealed class ShopCluster : IAsyncLifetime
{
    public PrivatePostgres Server { get; private set; } = null!;

    public static readonly string DjangoOrdersTable =
        File.ReadAllText(Path.Combine(PrivatePostgres.RepoRoot(), "scripts", "shop-orders-order.sql"));

    public async Task InitializeAsync() =>
        Server = await PrivatePostgres.StartAsync("wal_level = logical", "max_replication_slots = 20", "max_wal_senders = 20");

    public async Task DisposeAsync() => await Server.DisposeAsync();

    // A shop database with the orders table (or the DDL given); returns its connection string.
    public async Task<string> CreateShopAsync(string? ddl = null)
    {
        var name = $"shop_{Guid.NewGuid():N}";
        await ExecuteAsync(new NpgsqlConnectionStringBuilder(Server.AdminConnectionString) { Pooling = false }.ConnectionString,
            $"CREATE DATABASE {name}");
        // Unpooled: a test that restarts the shop's server must not leave dead pooled connections to the next.
        var connectionString = new NpgsqlConnectionStringBuilder(Server.ConnectionStringFor(name)) { Pooling = false }.ConnectionString;
        await ExecuteAsync(connectionString, ddl ?? DjangoOrdersTable);
        return connectionString;
    }

    public static string NewSlot() => $"crm_test_{Guid.NewGuid():N}"[..30];

    public static async Task ExecuteAsync(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // A test's setup may write a million rows in one statement: a loaded runner needs more
        // than Npgsql's default 30 s for it.
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<long> InsertOrderAsync(string shop, string name, string phone, decimal amount,
        string status = "completed", DateTimeOffset? createdAt = null, string city = "Москва")
    {
        await using var connection = new NpgsqlConnection(shop);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO orders_order (customer_name, customer_phone, customer_email, delivery_city, delivery_address,
                                      total_amount, status, created_at, updated_at)
            VALUES (@name, @phone, '', @city, 'ул. Ленина, 1', @amount, @status, @created, now())
            RETURNING id
            """, connection);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("phone", phone);
        command.Parameters.AddWithValue("city", city);
        command.Parameters.AddWithValue("amount", amount);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("created", (createdAt ?? DateTimeOffset.UtcNow.AddMinutes(-5)).UtcDateTime);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
