using Microsoft.AspNetCore.Authorization;

namespace Crm.Api.Auth;

public static class Authorization
{
    // reader: every GET; operator: every other write (notes, imports, job triggers); admin: DELETE.
    // An endpoint that names a role of its own with an AuthorizeAttribute has that role instead:
    // more (reverting a sync run, every webhook route: admin) or less (deleting a saved
    // segment, which holds no customer data: operator). A finally convention, so that it sees
    // the endpoint's own metadata, which is added after its groups' conventions.
    public static TBuilder RequireRoleByMethod<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<IAuthorizeData>().Any(a => a.Roles is not null))
                return;
            var methods = endpoint.Metadata.OfType<HttpMethodMetadata>().SelectMany(m => m.HttpMethods).ToList();
            var role = methods.All(m => m is "GET" or "HEAD") ? CrmRoles.Reader
                : methods.Contains("DELETE") ? CrmRoles.Admin
                : CrmRoles.Operator;
            endpoint.Metadata.Add(new AuthorizeAttribute { Roles = role });
        });
        return builder;
    }
}
