using Microsoft.AspNetCore.Authorization;

namespace Crm.Api.Auth;

public static class Authorization
{
    // reader: every GET; operator: every other write (notes, imports, job triggers); admin: DELETE.
    // An endpoint may ask for more with an AuthorizeAttribute of its own (reverting a sync run: admin).
    public static TBuilder RequireRoleByMethod<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            var methods = endpoint.Metadata.OfType<HttpMethodMetadata>().SelectMany(m => m.HttpMethods).ToList();
            var role = methods.All(m => m is "GET" or "HEAD") ? CrmRoles.Reader
                : methods.Contains("DELETE") ? CrmRoles.Admin
                : CrmRoles.Operator;
            endpoint.Metadata.Add(new AuthorizeAttribute { Roles = role });
        });
        return builder;
    }
}
