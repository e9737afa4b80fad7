using Crm.Jobs.Data;
using Crm.Jobs.Phones;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Crm.Jobs;

public static class CrmJobsExtensions
{
    // The engine's wiring: database, phone rules and the clock.
    public static IHostApplicationBuilder AddCrmJobs(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Crm");
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                "ConnectionStrings:Crm is not set (environment variable ConnectionStrings__Crm).");

        builder.Services.AddDbContextPool<CrmDbContext>(options => CrmDbContext.Configure(options, connectionString));

        builder.Services.AddOptions<PhoneOptions>()
            .BindConfiguration(PhoneOptions.Section)
            .Validate(o => PhoneNormalizer.IsKnownRegion(o.DefaultRegion), "Crm:Phone:DefaultRegion is not a known region code")
            .ValidateOnStart();
        builder.Services.AddSingleton<PhoneNormalizer>();
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }
}
