using Crm.Api.Auth;
using Crm.Api.Categories;
using Crm.Api.Customers;
using Crm.Api.Dashboard;
using Crm.Api.Health;
using Crm.Api.Infrastructure;
using Crm.Api.JobStatus;
using Crm.Api.Orders;
using Crm.Api.Privacy;
using Crm.Api.Reads;
using Crm.Api.Segments;
using Crm.Api.Shop;
using Crm.Api.Sync;
using Crm.Api.Webhooks;
using Crm.Jobs;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Orders;
using Crm.Jobs.Privacy;
using FluentValidation;
using Hangfire;
using Microsoft.AspNetCore.Authentication;

namespace Crm.Api;

public static class CrmApiExtensions
{
    // serving: false for the commands (migrate, sync, seed-demo), which answer no requests.
    public static WebApplicationBuilder AddCrmApi(this WebApplicationBuilder builder, bool serving = true)
    {
        var services = builder.Services;
        services.ConfigureHttpJsonOptions(options => CrmJson.Configure(options.SerializerOptions));

        // Binding failures throw in every environment so ProblemExceptionHandler can name the field.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddProblemDetails();
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>();
        services.AddExceptionHandler<ProblemExceptionHandler>();

        services.AddValidatorsFromAssemblyContaining<CustomerRequestValidator>(includeInternalTypes: true);
        services.AddValidatorsFromAssemblyContaining<OrderInputValidator>(includeInternalTypes: true);
        // The reads the API, the dashboard and the health checks share, one class per feature.
        services.AddScoped<CustomerQueries>();
        services.AddScoped<OrderQueries>();
        services.AddScoped<SyncQueries>();
        services.AddScoped<JobQueries>();
        services.AddScoped<ShopQueries>();
        services.AddScoped<WebhookQueries>();
        AddReads(services, builder.Configuration, serving && CrmJobsExtensions.Role(builder.Configuration) != AppRole.Worker);
        services.AddCrmOpenApi();
        services.AddCrmLimits(builder.Configuration);
        AddAuth(builder, serving);
        services.AddHealthChecks()
            .AddDbContextCheck<CrmDbContext>("database", tags: [HealthEndpoints.ReadyTag])
            .AddCheck<HangfireHealthCheck>("jobs", tags: [HealthEndpoints.ReadyTag])
            .AddCheck<ShopHealthCheck>("shop", tags: [HealthEndpoints.ReadyTag]);
        services.AddOptions<HealthOptions>()
            .BindConfiguration(HealthOptions.Section)
            .Validate(o => o.CacheDuration >= TimeSpan.Zero, "Crm:Health:CacheDuration must not be negative")
            .ValidateOnStart();
        services.AddSingleton<ReadinessReport>();
        services.AddOptions<DashboardSettings>()
            .BindConfiguration(DashboardSettings.Section)
            .Validate(o => TimeZoneInfo.TryFindSystemTimeZoneById(o.TimeZone, out _), "Crm:Dashboard:TimeZone is not a known time zone")
            .ValidateOnStart();
        services.AddSingleton<DashboardTime>();
        builder.AddCrmTelemetry();
        return builder;
    }

    // The reads that may be a little stale go to Crm:Database:ReadConnectionString's server
    // while it keeps up (ReadReplica); handlers ask for them by ReadSource.Key.
    private static void AddReads(IServiceCollection services, IConfiguration configuration, bool serving)
    {
        services.AddHttpContextAccessor();
        services.AddSingleton<ReadReplica>();
        services.AddScoped<ReadSource>();
        services.AddKeyedScoped(ReadSource.Key, (sp, _) => sp.GetRequiredService<ReadSource>().CreateContext());
        services.AddKeyedScoped(ReadSource.Key, (sp, _) =>
            ActivatorUtilities.CreateInstance<CustomerQueries>(sp, sp.GetRequiredKeyedService<CrmDbContext>(ReadSource.Key)));
        services.AddKeyedScoped(ReadSource.Key, (sp, _) =>
            ActivatorUtilities.CreateInstance<OrderQueries>(sp, sp.GetRequiredKeyedService<CrmDbContext>(ReadSource.Key)));
        var standby = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>()?.ReadConnectionString;
        if (!serving || string.IsNullOrWhiteSpace(standby))
            return;
        services.AddHostedService<ReplicaWatch>();
        services.AddSingleton<IHostedService>(sp => new PoolWatch(CrmDataSources.ReadsPool,
            sp.GetRequiredService<ReadReplica>().Standby!, sp.GetRequiredService<ILogger<PoolWatch>>()));
    }

    // API keys with roles; outside Development the API refuses to start without them.
    private static void AddAuth(WebApplicationBuilder builder, bool serving)
    {
        var options = AuthOptions.Read(builder.Configuration);
        var problems = ApiKeyStore.Problems(options).ToList();
        if (problems.Count > 0)
            throw new InvalidOperationException("Invalid API key configuration: " + string.Join(" ", problems));
        if (options.ApiKeys.Count == 0 && serving && !builder.Environment.IsDevelopment()
            && CrmJobsExtensions.Role(builder.Configuration) != AppRole.Worker)
            throw new InvalidOperationException(
                "No API keys are configured (Crm:Auth:ApiKeys). Outside Development the API refuses to start without them: " +
                "set Crm__Auth__ApiKeys__0__Name, Crm__Auth__ApiKeys__0__Key (16+ characters) and Crm__Auth__ApiKeys__0__Roles (reader, operator or admin).");

        // Every serving role writes orders (the API its requests, workers the shop's), and each
        // write asks the erasure tombstones, keyed by this hash (docs/PRIVACY.md).
        var hashKey = builder.Configuration[$"{PrivacyOptions.Section}:HashKey"];
        if (string.IsNullOrEmpty(hashKey) && serving && !builder.Environment.IsDevelopment())
            throw new InvalidOperationException(
                "Crm:Privacy:HashKey is not set (environment variable Crm__Privacy__HashKey). Outside Development the service refuses to start without it: " +
                $"set {PrivacyOptions.MinHashKeyLength}+ random characters, and keep them as long as the database (a new key forgets who was erased).");
        if (!string.IsNullOrEmpty(hashKey) && hashKey.Length < PrivacyOptions.MinHashKeyLength)
            throw new InvalidOperationException($"Crm:Privacy:HashKey must have at least {PrivacyOptions.MinHashKeyLength} characters.");
        builder.Services.AddSingleton(new ApiKeyStore(options));
        builder.Services.AddAuthentication(CallerAuthentication.SchemeName)
            .AddPolicyScheme(CallerAuthentication.SchemeName, null, caller => caller.ForwardDefaultSelector = CallerAuthentication.SchemeFor)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, DashboardBasicAuthentication>(DashboardBasicAuthentication.SchemeName, null);
        builder.Services.AddAuthorization();
        // With the service registered, Hangfire's dashboard issues antiforgery tokens and refuses commands without one.
        builder.Services.AddAntiforgery();
    }

    public static WebApplication UseCrmApi(this WebApplication app)
    {
        // A worker process serves health and metrics only; the API and the dashboard live in `api` and `all`.
        var worker = CrmJobsExtensions.Role(app.Configuration) == AppRole.Worker;
        app.UseForwardedHeaders();
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        // Who calls comes first: the limiter counts per key, and an unknown caller gets 401
        // before its method, content type or body size is looked at.
        app.UseAuthentication();
        app.UseRateLimiter();
        if (!worker)
            app.UseCallerChallenge();
        app.UseRequestBodyLimit();
        app.UseAuthorization();
        app.MapHealth();
        app.MapCrmMetrics();

        if (worker)
            return app;

        // Before the dashboard and the endpoints: both read after writes.
        app.UseReadYourWrites();

        app.MapOpenApi();
        app.MapCrmApiReference();
        DashboardPages.Register();
        app.UseHangfireDashboard(DashboardAccess.Path, new DashboardOptions
        {
            DashboardTitle = "crm-minimal jobs",
            // "Back to site": the API reference, mapped wherever the dashboard is (the app has no page at "/").
            AppPath = "/scalar",
            Authorization = [new DashboardAccess()],
            IsReadOnlyFunc = DashboardAccess.IsReadOnly,
        }, app.Services.GetRequiredService<JobStorage>());

        var api = app.MapGroup("").RequireRoleByMethod().WithWriteTimeout();
        api.MapCustomers();
        api.MapCustomerPhones();
        api.MapCustomerMerges();
        api.MapSegments();
        api.MapOriginalRoutes();
        api.MapOrders();
        api.MapPrivacy();
        api.MapCustomerPrivacy();
        api.MapSync();
        api.MapJobs();
        api.MapCategories();
        api.MapShop();
        api.MapWebhooks();
        return app;
    }
}
