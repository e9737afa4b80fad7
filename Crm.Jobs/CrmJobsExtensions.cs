using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Orders;
using Crm.Jobs.Phones;
using Crm.Jobs.Sync;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Crm.Jobs;

public static class CrmJobsExtensions
{
    // The engine's wiring: database, phone rules, the clock, Hangfire and, for the roles
    // that run jobs, the job servers.
    public static IHostApplicationBuilder AddCrmJobs(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Crm");
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException(
                "ConnectionStrings:Crm is not set (environment variable ConnectionStrings__Crm).");

        var services = builder.Services;
        // One connection pool for EF Core, the sync engine's SQL and Hangfire.
        services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        services.AddDbContextPool<CrmDbContext>((sp, options) =>
            CrmDbContext.Configure(options, sp.GetRequiredService<NpgsqlDataSource>()));

        services.AddOptions<PhoneOptions>()
            .BindConfiguration(PhoneOptions.Section)
            .Validate(o => PhoneNormalizer.IsKnownRegion(o.DefaultRegion), "Crm:Phone:DefaultRegion is not a known region code")
            .ValidateOnStart();
        services.AddOptions<CategoryOptions>()
            .BindConfiguration(CategoryOptions.Section)
            .Validate(o => o.RegularMinOrders > 0 && o.VipMinOrders > 0 && o.VipMinSpent > 0 && o.InactiveAfterDays > 0,
                "Crm:Categories thresholds must be positive")
            .ValidateOnStart();
        services.AddOptions<SyncOptions>()
            .BindConfiguration(SyncOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.PlaceholderName), "Crm:Sync:PlaceholderName must not be empty")
            .ValidateOnStart();
        services.AddOptions<JobsOptions>()
            .BindConfiguration(JobsOptions.Section)
            .Validate(o => o.WorkerCount > 0, "Crm:Jobs:WorkerCount must be positive")
            .ValidateOnStart();

        services.AddSingleton<PhoneNormalizer>();
        services.AddSingleton(TimeProvider.System);
        services.AddScoped<SyncEngine>();
        services.AddScoped<SyncJobs>();
        services.AddScoped<SyncScheduler>();
        services.AddScoped<RecalculateCategoriesJob>();
        services.AddScoped<OrderImporter>();

        AddHangfire(services, connectionString);
        var role = Role(builder.Configuration);
        if (role is AppRole.All or AppRole.Worker)
            AddJobServers(services);
        services.AddHostedService<RecurringJobs>();
        return builder;
    }

    public static AppRole Role(IConfiguration configuration)
    {
        var text = configuration["Crm:Role"] ?? "all";
        return Enum.TryParse<AppRole>(text, ignoreCase: true, out var role) && Enum.IsDefined(role)
            ? role
            : throw new InvalidOperationException($"Crm:Role '{text}' is not one of: all, api, worker.");
    }

    public static PostgreSqlStorageOptions StorageOptions(JobsOptions options) => new()
    {
        SchemaName = "hangfire",
        QueuePollInterval = options.QueuePollInterval,
        EnableLongPolling = true,
        InvisibilityTimeout = options.InvisibilityTimeout,
        UseSlidingInvisibilityTimeout = true,
        // The schema is installed by the `migrate` command, never implicitly at start.
        PrepareSchemaIfNecessary = false,
    };

    private static void AddHangfire(IServiceCollection services, string connectionString)
    {
        // Registered here rather than through GlobalConfiguration.UseStorage, so that every
        // host in a process (the tests run several) keeps its own storage.
        services.AddSingleton<JobStorage>(sp => new PostgreSqlStorage(
            new DataSourceConnectionFactory(sp.GetRequiredService<NpgsqlDataSource>()),
            StorageOptions(sp.GetRequiredService<IOptions<JobsOptions>>().Value)));

        services.AddHangfire((sp, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new HangfireLogProvider(sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>())));
    }

    private static void AddJobServers(IServiceCollection services)
    {
        services.AddHangfireServer((sp, server) =>
        {
            var options = sp.GetRequiredService<IOptions<JobsOptions>>().Value;
            server.ServerName = $"{Environment.MachineName}-customers";
            server.Queues = [JobQueues.Default];
            server.WorkerCount = options.WorkerCount;
            server.SchedulePollingInterval = options.SchedulePollingInterval;
        });
        services.AddHangfireServer((sp, server) =>
        {
            var options = sp.GetRequiredService<IOptions<JobsOptions>>().Value;
            server.ServerName = $"{Environment.MachineName}-bulk";
            server.Queues = [JobQueues.Bulk];
            server.WorkerCount = 1;
            server.SchedulePollingInterval = options.SchedulePollingInterval;
        });
    }

    private sealed class DataSourceConnectionFactory(NpgsqlDataSource dataSource) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => dataSource.CreateConnection();
    }
}
