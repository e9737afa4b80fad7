using Crm.Api.Customers;
using Crm.Api.Health;
using Crm.Api.Infrastructure;
using Crm.Jobs.Data;
using FluentValidation;
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
        services.AddOpenApi();
        services.AddHealthChecks().AddDbContextCheck<CrmDbContext>("database", tags: [HealthEndpoints.ReadyTag]);
        return builder;
    }

    public static WebApplication UseCrmApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        app.MapOpenApi();
        app.MapScalarApiReference(options => options.WithTitle("crm-minimal API"));
        app.MapHealth();
        app.MapCustomers();
        return app;
    }
}
