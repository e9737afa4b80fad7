using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Crm.Api.Auth;

// Declares the X-Api-Key scheme in the OpenAPI document, so Scalar offers a field for it, and
// on each operation the answers given before its handler runs: 401, 403 and 429. Without
// keys (Development only) nothing asks for one, and the document says so.
public sealed class OpenApiSecurity(ApiKeyStore keys) : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        if (keys.Disabled)
            return Task.CompletedTask;
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ApiKeyAuthenticationHandler.SchemeName] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyAuthenticationHandler.Header,
            Description = "An API key from Crm:Auth:ApiKeys. reader: GET; operator: writes and job triggers; admin: everything, DELETE included.",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, document)] = [],
        });
        return Task.CompletedTask;
    }

    public async Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken ct)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var authorize = metadata.OfType<IAuthorizeData>().ToList();
        var secured = !keys.Disabled && authorize.Count > 0 && !metadata.OfType<IAllowAnonymous>().Any();
        // Every key may read (roles imply reader), so only a role above reader can be refused.
        var roleAboveReader = authorize.Any(a => a.Roles is { } roles
            && !roles.Split(',', StringSplitOptions.TrimEntries).Contains(CrmRoles.Reader));

        // One ProblemDetails component, the same that ProducesProblem refers to.
        context.Document!.AddComponent(nameof(ProblemDetails), await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), cancellationToken: ct));
        var problem = new OpenApiSchemaReference(nameof(ProblemDetails), context.Document);
        operation.Responses ??= [];
        if (secured)
            operation.Responses.TryAdd("401", Problem(problem, $"No valid API key in the {ApiKeyAuthenticationHandler.Header} header."));
        if (secured && roleAboveReader)
            operation.Responses.TryAdd("403", Problem(problem, "The key's role does not allow this request."));

        // The rate limiter is global: any request may be refused, a secured one after its key is read.
        var tooMany = Problem(problem, "Too many requests from this key (or address without one) this minute; retry after Retry-After seconds.");
        tooMany.Headers = new Dictionary<string, IOpenApiHeader>
        {
            ["Retry-After"] = new OpenApiHeader
            {
                Description = "Seconds until the key's budget is renewed.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Integer },
            },
        };
        operation.Responses.TryAdd("429", tooMany);
    }

    private static OpenApiResponse Problem(IOpenApiSchema schema, string description) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() { Schema = schema } },
    };
}
