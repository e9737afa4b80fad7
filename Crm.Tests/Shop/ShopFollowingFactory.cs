using Crm.Tests.Infrastructure;

namespace Crm.Tests.Shop;

// The app following a shop database: the real clock (orders are dated now), a slot of its own,
// and short intervals so state changes show within a second or two.
// With an owner, a second process on the owner's CRM database (two followers racing).
// Settings, if given, add to or override these (("Crm:Shop:StageSliceRows", "3")).
public class ShopFollowingFactory(
    string shopConnectionString, string slot, CrmApiFactory? owner = null, params (string Key, string Value)[] settings) : CrmApiFactory
{
    public string ShopConnectionString => shopConnectionString;
    public string Slot => slot;

    public override bool UsesFakeClock => false;

    public override string ConnectionString => owner?.ConnectionString ?? base.ConnectionString;

    public override Task InitializeAsync() => owner is null ? base.InitializeAsync() : Task.CompletedTask;

    protected override Task DropDatabaseAsync() => owner is null ? base.DropDatabaseAsync() : Task.CompletedTask;

    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crm:Shop:ConnectionString", shopConnectionString);
        builder.UseSetting("Crm:Shop:Slot", slot);
        builder.UseSetting("Crm:Shop:StatusInterval", "00:00:01");
        builder.UseSetting("Crm:Shop:MaxReconnectDelay", "00:00:02");
        foreach (var (key, value) in settings)
            builder.UseSetting(key, value);
    }
}
