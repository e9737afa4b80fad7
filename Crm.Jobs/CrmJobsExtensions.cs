using Crm.Jobs.Categories;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Ledger;
using Crm.Jobs.Orders;
using Crm.Jobs.Phones;
using Crm.Jobs.Privacy;
using Crm.Jobs.Shop;
using Crm.Jobs.Sync;
using Crm.Jobs.Webhooks;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
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
        var database = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        if (database.CommandTimeout < TimeSpan.FromSeconds(1) || database.WriteCommandTimeout < TimeSpan.FromSeconds(1))
            throw new InvalidOperationException("Crm:Database:CommandTimeout and WriteCommandTimeout must be at least one second.");
        if (database.MaxReadLag <= TimeSpan.Zero)
            throw new InvalidOperationException("Crm:Database:MaxReadLag must be positive.");
        services.AddSingleton(database);
        // Two pools. The default one serves requests, EF Core and Hangfire's storage: short
        // statements, so a hung database costs a request seconds (503), not minutes. The
        // jobs' pool serves statements that legitimately run for minutes (syncs, imports).
        services.AddSingleton(_ => CrmDataSources.Create(ForRequests(connectionString, database.CommandTimeout), CrmDataSources.RequestsPool));
        services.AddKeyedSingleton(CrmDataSources.Jobs, (_, _) => CrmDataSources.Create(FailFast(connectionString), CrmDataSources.JobsPool));
        // Each pool drops its connections the moment the server restarts (PoolWatch).
        services.AddSingleton<IHostedService>(sp => new PoolWatch(CrmDataSources.RequestsPool,
            sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<ILogger<PoolWatch>>()));
        services.AddSingleton<IHostedService>(sp => new PoolWatch(CrmDataSources.JobsPool,
            sp.GetRequiredKeyedService<NpgsqlDataSource>(CrmDataSources.Jobs), sp.GetRequiredService<ILogger<PoolWatch>>()));
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
            .Validate(o => o.WriteBatchWindow >= TimeSpan.Zero && o.WriteBatchWindow < o.PendingClaimTimeout,
                "Crm:Sync:WriteBatchWindow must be between zero and Crm:Sync:PendingClaimTimeout")
            .Validate(o => o.RunRetentionDays > 0, "Crm:Sync:RunRetentionDays must be positive")
            .ValidateOnStart();
        services.AddOptions<LedgerOptions>()
            .BindConfiguration(LedgerOptions.Section)
            .Validate(o => o.RetentionDays > 0, "Crm:Ledger:RetentionDays must be positive")
            .Validate(o => o.PersonalValueRetentionDays >= 1 && o.PersonalValueRetentionDays <= o.RetentionDays,
                "Crm:Ledger:PersonalValueRetentionDays must be between 1 and Crm:Ledger:RetentionDays")
            .ValidateOnStart();
        services.AddOptions<WebhookOptions>()
            .BindConfiguration(WebhookOptions.Section)
            .Validate(o => o.MaxEventsPerMessage is > 0 and <= 1000, "Crm:Webhooks:MaxEventsPerMessage must be between 1 and 1000")
            .Validate(o => o.DisableAfter > TimeSpan.Zero, "Crm:Webhooks:DisableAfter must be positive")
            .Validate(o => o.Timeout > TimeSpan.Zero, "Crm:Webhooks:Timeout must be positive")
            .Validate(o => o.WorkerCount > 0, "Crm:Webhooks:WorkerCount must be positive")
            .Validate(o => o.Lanes is > 0 and <= WebhookOptions.MaxLanes, "Crm:Webhooks:Lanes must be between 1 and 64")
            .Validate(o => o.PollInterval > TimeSpan.Zero, "Crm:Webhooks:PollInterval must be positive")
            .Validate(o => o.RetentionDays > 0, "Crm:Webhooks:RetentionDays must be positive")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidation>();
        // Its key is checked where the API's keys are (CrmApiExtensions): a one-line refusal at start.
        services.AddOptions<PrivacyOptions>().BindConfiguration(PrivacyOptions.Section);
        services.AddOptions<JobsOptions>()
            .BindConfiguration(JobsOptions.Section)
            .Validate(o => o.WorkerCount > 0, "Crm:Jobs:WorkerCount must be positive")
            .Validate(o => o.ListenerNudgeInterval > TimeSpan.Zero, "Crm:Jobs:ListenerNudgeInterval must be positive")
            .Validate(o => o.CustomerCountInterval > TimeSpan.Zero, "Crm:Jobs:CustomerCountInterval must be positive")
            .ValidateOnStart();

        services.AddOptions<ShopOptions>()
            .BindConfiguration(ShopOptions.Section)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ShopOptions>, ShopOptionsValidation>();

        services.AddSingleton<PhoneNormalizer>();
        services.AddSingleton<CrmMetrics>();
        services.AddSingleton<JobObservation>();
        services.AddSingleton(TimeProvider.System);
        services.AddScoped<SyncEngine>();
        services.AddScoped<SyncJobs>();
        services.AddScoped<SyncScheduler>();
        services.AddScoped<SyncRuns>();
        services.AddScoped<RecalculateCategoriesJob>();
        services.AddScoped<LedgerJobs>();
        services.AddScoped<OrderImporter>();
        services.AddSingleton(sp => PhoneHasher.From(sp.GetRequiredService<IOptions<PrivacyOptions>>().Value, sp.GetRequiredService<IHostEnvironment>()));
        services.AddSingleton<ErasedPhones>();
        services.AddScoped<ErasureJobs>();
        services.AddScoped<WebhookJobs>();
        services.AddScoped<WebhookReplayJobs>();
        services.AddSingleton<WebhookUrlPolicy>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookDispatch>();

        var role = Role(builder.Configuration);
        AddHangfire(services, role);
        if (role is AppRole.All or AppRole.Worker)
            AddJobServers(services, role);
        services.AddHostedService<RecurringJobs>();
        return builder;
    }

    // How long Npgsql trusts what it learnt of a host of a multi-host connection string (down,
    // or a standby) before it tries the host again, unless the string says (Host Recheck
    // Seconds). Npgsql's 10 s default kept every write failing for up to 10 s after the standby
    // was promoted; a host that refuses costs nothing to retry, one that does not answer costs
    // the opens in flight the connect timeout once per interval (docs/RELIABILITY.md#failover).
    public const int FailoverHostRecheckSeconds = 2;

    // While PostgreSQL is down a request should fail in seconds (503), not hang for
    // Npgsql's default 15 s connect timeout; an explicit Timeout in the string wins. With
    // several hosts (a primary and its standby), a promoted standby is found within
    // FailoverHostRecheckSeconds.
    public static string FailFast(string connectionString, int connectTimeout = 3)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var changed = false;
        if (!given.ContainsKey("Timeout"))
        {
            builder.Timeout = connectTimeout;
            changed = true;
        }
        if (builder.Host?.Contains(',') == true && !given.ContainsKey("Host Recheck Seconds") && !given.ContainsKey("HostRecheckSeconds"))
        {
            builder.HostRecheckSeconds = FailoverHostRecheckSeconds;
            changed = true;
        }
        return changed ? builder.ConnectionString : connectionString;
    }

    // The requests' pool. A statement without an answer after the command timeout is
    // cancelled: Npgsql first delivers a cancel request on a connection of its own, whose
    // encryption negotiation waits up to the connect timeout on a server that does not
    // answer (once per negotiation: GSS encryption is off here unless the string asks for
    // it), then, with CancellationTimeout -1, breaks the connection at once. So a hung
    // server costs a request about CommandTimeout + Timeout: 2 + 2 = 4 s by default.
    public static string ForRequests(string connectionString, TimeSpan commandTimeout)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(FailFast(connectionString, connectTimeout: 2))
        {
            CommandTimeout = (int)Math.Ceiling(commandTimeout.TotalSeconds),
            CancellationTimeout = -1,
        };
        if (!given.ContainsKey("Gss Encryption Mode") && !given.ContainsKey("GssEncryptionMode"))
            builder.GssEncryptionMode = GssEncryptionMode.Disable;
        return builder.ConnectionString;
    }

    public static AppRole Role(IConfiguration configuration)
    {
        var text = configuration["Crm:Role"] ?? "all";
        return Enum.TryParse<AppRole>(text, ignoreCase: true, out var role) && Enum.IsDefined(role)
            ? role
            : throw new InvalidOperationException($"Crm:Role '{text}' is not one of: all, api, worker.");
    }

    public static PostgreSqlStorageOptions StorageOptions(JobsOptions options, AppRole role) => new()
    {
        SchemaName = "hangfire",
        QueuePollInterval = options.QueuePollInterval,
        EnableLongPolling = options.LongPollingFor(role),
        UseNativeDatabaseTransactions = options.UseNativeDatabaseTransactions,
        InvisibilityTimeout = options.InvisibilityTimeout,
        UseSlidingInvisibilityTimeout = true,
        DistributedLockTimeout = options.DistributedLockTimeout,
        // The schema is installed by the `migrate` command, never implicitly at start.
        PrepareSchemaIfNecessary = false,
    };

    private static void AddHangfire(IServiceCollection services, AppRole role)
    {
        // Registered here rather than left to AddHangfire, which would hand out the
        // process-wide JobStorage.Current and JobActivator.Current: every host in a process
        // (the tests run several) keeps its own storage and runs jobs with its own services.
        services.AddSingleton<JobStorage>(sp => new PostgreSqlStorage(
            new DataSourceConnectionFactory(sp.GetRequiredService<NpgsqlDataSource>()),
            StorageOptions(sp.GetRequiredService<IOptions<JobsOptions>>().Value, role)));
        services.AddSingleton<JobActivator>(sp => new Hangfire.AspNetCore.AspNetCoreJobActivator(
            sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddSingleton<Hangfire.Common.IJobFilterProvider, HostJobFilterProvider>();
        // Hangfire's performer, its failures classified (JobFailureText). A job server takes a
        // performer from the container only together with a job factory and a state changer:
        // those two are Hangfire's own, on this host's filters.
        services.AddSingleton<Hangfire.Client.IBackgroundJobFactory>(sp =>
            new Hangfire.Client.BackgroundJobFactory(sp.GetRequiredService<Hangfire.Common.IJobFilterProvider>()));
        services.AddSingleton<Hangfire.States.IBackgroundJobStateChanger>(sp =>
            new Hangfire.States.BackgroundJobStateChanger(sp.GetRequiredService<Hangfire.Common.IJobFilterProvider>()));
        services.AddSingleton<Hangfire.Server.IBackgroundJobPerformer>(sp => new JobFailureText(
            new Hangfire.Server.BackgroundJobPerformer(sp.GetRequiredService<Hangfire.Common.IJobFilterProvider>(),
                sp.GetRequiredService<JobActivator>(), TaskScheduler.Default),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<JobFailureText>>()));

        services.AddHangfire((sp, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            // Job results (a sync's counts) read like the API: camelCase, zeros kept, no type names.
            .UseRecommendedSerializerSettings(settings =>
            {
                settings.ContractResolver = new Newtonsoft.Json.Serialization.CamelCasePropertyNamesContractResolver();
                settings.DefaultValueHandling = Newtonsoft.Json.DefaultValueHandling.Include;
                settings.TypeNameHandling = Newtonsoft.Json.TypeNameHandling.None;
                // A dry run's sample holds ledger values as System.Text.Json elements.
                settings.Converters.Add(new JsonElementConverter());
            })
            .UseLogProvider(new HangfireLogProvider(sp.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>())));
    }

    // Writes a System.Text.Json element (also a nullable one) as the JSON it is; Newtonsoft
    // would write its properties. Results are only written: Hangfire never reads them back.
    private sealed class JsonElementConverter : Newtonsoft.Json.JsonConverter
    {
        public override bool CanConvert(Type objectType) =>
            objectType == typeof(System.Text.Json.JsonElement) || objectType == typeof(System.Text.Json.JsonElement?);

        public override bool CanRead => false;

        public override void WriteJson(Newtonsoft.Json.JsonWriter writer, object? value, Newtonsoft.Json.JsonSerializer serializer)
        {
            if (value is System.Text.Json.JsonElement element)
                writer.WriteRawValue(element.GetRawText());
            else
                writer.WriteNull();
        }

        public override object ReadJson(Newtonsoft.Json.JsonReader reader, Type objectType, object? existingValue, Newtonsoft.Json.JsonSerializer serializer) =>
            throw new NotSupportedException();
    }

    private static void AddJobServers(IServiceCollection services, AppRole role)
    {
        services.AddHangfireServer((sp, server) => ConfigureServer(sp, server, "customers", [JobQueues.Default],
            sp.GetRequiredService<IOptions<JobsOptions>>().Value.WorkerCount));
        services.AddHangfireServer((sp, server) => ConfigureServer(sp, server, "bulk", [JobQueues.Bulk], workerCount: 1));
        services.AddHangfireServer((sp, server) => ConfigureServer(sp, server, "webhooks", [JobQueues.Webhooks],
            sp.GetRequiredService<IOptions<WebhookOptions>>().Value.WorkerCount));
        services.AddHostedService<WebhookDispatcher>();
        services.AddHostedService(sp => new ListenerNudge(sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<IOptions<JobsOptions>>(), role, sp.GetRequiredService<ILogger<ListenerNudge>>()));
        services.AddHostedService<GaugePublisher>();
        services.AddHostedService<ShopFollower>();
    }

    private static void ConfigureServer(IServiceProvider sp, BackgroundJobServerOptions server, string name, string[] queues, int workerCount)
    {
        server.ServerName = $"{Environment.MachineName}-{name}";
        server.Queues = queues;
        server.WorkerCount = workerCount;
        server.SchedulePollingInterval = sp.GetRequiredService<IOptions<JobsOptions>>().Value.SchedulePollingInterval;
    }

    private sealed class DataSourceConnectionFactory(NpgsqlDataSource dataSource) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => dataSource.CreateConnection();
    }
}
