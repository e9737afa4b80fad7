using Crm.Jobs.Orders;
using Crm.Jobs.Phones;
using Crm.Jobs.Privacy;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Crm.Tests.Infrastructure;

// The importer on its own cloned database, built by hand: no web host is needed.
public sealed class OrderImporterDatabase : IAsyncLifetime
{
    private string _database = "";

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    public NpgsqlDataSource DataSource { get; private set; } = null!;
    public OrderImporter Importer { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        DataSource = NpgsqlDataSource.Create(TestDatabase.ConnectionStringFor(_database));
        Importer = new OrderImporter(
            DataSource,
            new PhoneNormalizer(Options.Create(new PhoneOptions { DefaultRegion = "RU" })),
            new OrderInputValidator(Clock),
            new ErasedPhones(new PhoneHasher(TestKeys.PrivacyHashKey)),
            Clock);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        await TestDatabase.DropAsync(_database);
    }
}
