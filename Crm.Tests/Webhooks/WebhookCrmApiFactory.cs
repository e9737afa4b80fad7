using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;

namespace Crm.Tests.Webhooks;

// The app in Development (the receivers are plain http on loopback) with the real clock (the
// receiver checks webhook-timestamp against its own), dispatching every second.
public class WebhookCrmApiFactory : CrmApiFactory
{
    protected override string EnvironmentName => "Development";

    public override bool UsesFakeClock => false;

    protected virtual IEnumerable<(string Key, string Value)> Settings => [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crm:Webhooks:PollInterval", "00:00:01");
        foreach (var (key, value) in Settings)
            builder.UseSetting(key, value);
    }
}
