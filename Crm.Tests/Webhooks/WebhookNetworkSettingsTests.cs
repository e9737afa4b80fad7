using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

namespace Crm.Tests.Webhooks;

// An allowed network that covers loopback fails the start, and so does the setting it
// replaced (Crm:Webhooks:AllowPrivateNetworks opened loopback and the metadata service too).
public class WebhookNetworkSettingsTests(WebhookNetworkSettingsTests.Factory factory) : IClassFixture<WebhookNetworkSettingsTests.Factory>
{
    public sealed class Factory : CrmApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("Crm:Webhooks:AllowedNetworks:0", "10.0.0.0/8");
            builder.UseSetting("Crm:Webhooks:AllowedNetworks:1", "0.0.0.0/0");
            builder.UseSetting("Crm:Webhooks:AllowPrivateNetworks", "true");
        }
    }

    [Fact]
    public void ANetworkCoveringLoopbackOrTheOldSettingFailsTheStart()
    {
        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Equal(
            [
                "Crm:Webhooks:AllowedNetworks entry '0.0.0.0/0' covers 0.0.0.0/8: loopback, link-local (with the metadata service), 0.0.0.0/8 and :: are never allowed.",
                "Crm:Webhooks:AllowPrivateNetworks was replaced by Crm:Webhooks:AllowedNetworks, a list of the networks (CIDR) receivers may be in; remove it.",
            ],
            error.Failures);
    }
}
