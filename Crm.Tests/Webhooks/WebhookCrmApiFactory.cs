using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Crm.Tests.Webhooks;

// The app in Development (the receivers are plain http on loopback) with the real clock (the
// receiver checks webhook-timestamp against its own), dispatching every second.
public class WebhookCrmApiFactory : CrmApiFactory
{
    protected override string EnvironmentName => "Development";

    public override bool UsesFakeClock => false;

    protected virtual IEnumerable<(string Key, string Value)> Settings => [];

    // The app's log lines (the delivery jobs' failures included), for a test that fails.
    public CapturedLogs Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crm:Webhooks:PollInterval", "00:00:01");
        builder.ConfigureServices(services => services.AddLogging(logging => logging.AddProvider(Logs)));
        foreach (var (key, value) in Settings)
            builder.UseSetting(key, value);
    }
}
