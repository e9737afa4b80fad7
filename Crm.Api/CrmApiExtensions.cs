using Crm.Api.Categories;
using Crm.Api.Customers;
using Crm.Api.Dashboard;
using Crm.Api.Health;
using Crm.Api.Infrastructure;
using Crm.Api.JobStatus;
using Crm.Api.Orders;
using Crm.Api.Sync;
using Crm.Jobs;
using Crm.Jobs.Data;
using Crm.Jobs.Hosting;
using Crm.Jobs.Orders;
using FluentValidation;
using Hangfire;
using Scalar.AspNetCore;

namespace Crm.Api;

public static class CrmApiExtensions
{
    public static WebApplicationBuilder AddCrmApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.ConfigureHttpJsonOptions(options => CrmJson.Configure(options.SerializerOptions));

        // Binding failures throw in every environment so ProblemExceptionHandler can name the field.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();

        services.AddValidatorsFromAssemblyContaining<CustomerRequestValidator>(includeInternalTypes: true);
        services.AddValidatorsFromAssemblyContaining<OrderInputValidator>(includeInternalTypes: true);
        services.AddOpenApi();
        services.AddHealthChecks().AddDbContextCheck<CrmDbContext>("database", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }

    public static WebApplication UseCrmApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealth();

        // A worker process serves health only; the API and the dashboard live in `api` and `all`.
        if (CrmJobsExtensions.Role(app.Configuration) == AppRole.Worker)
            return app;

        app.MapOpenApi();
        app.MapScalarApiReference(options => options.WithTitle("crm-minimal API"));
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            DashboardTitle = "crm-minimal jobs",
            Authorization = [new DashboardAccess(app.Environment)],
        }, app.Services.GetRequiredService<JobStorage>());

        app.MapCustomers();
        app.MapOrders();
        app.MapSync();
        app.MapJobs();
        app.MapCategories();
        return app;
    }
}
