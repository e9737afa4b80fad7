using Microsoft.AspNetCore.Hosting;

namespace Crm.Tests.Infrastructure;

// The app on its own cloned database in one role (Crm:Role).
public class RoleFactory(string role) : CrmApiFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Crm:Role", role);
    }
}
