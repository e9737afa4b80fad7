using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

namespace Crm.Tests.Ledger;

// Personal values cannot be kept longer than the changes that hold them: the start fails,
// naming the setting.
public class LedgerOptionsTests(LedgerOptionsTests.Factory factory) : IClassFixture<LedgerOptionsTests.Factory>
{
    public sealed class Factory : CrmApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:Ledger:RetentionDays", "30");
            builder.UseSetting("Crm:Ledger:PersonalValueRetentionDays", "31");
        }
    }

    [Fact]
    public void APersonalValueRetentionLongerThanTheRetentionFailsTheStart()
    {
        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Equal("Crm:Ledger:PersonalValueRetentionDays must be between 1 and Crm:Ledger:RetentionDays", error.Message);
    }
}
