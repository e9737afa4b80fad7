using Crm.Api.Dashboard;
using Microsoft.AspNetCore.Authentication;

namespace Crm.Api.Auth;

// Who is calling: an X-Api-Key on the API, HTTP Basic on the dashboard; one default scheme
// picks the right one by path, so authentication, the rate limiter and the challenge agree.
public static class CallerAuthentication
{
    public const string SchemeName = "Caller";

    public static string SchemeFor(HttpContext http) => http.Request.Path.StartsWithSegments(DashboardAccess.Path)
        ? DashboardBasicAuthentication.SchemeName
        : ApiKeyAuthenticationHandler.SchemeName;

    // A caller of the API or the dashboard without valid credentials gets its 401 here, before
    // anything judges the request itself (routing's 405 and 415, the body limit, binding).
    public static IApplicationBuilder UseCallerChallenge(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var guarded = http.Request.Path.StartsWithSegments("/api") || http.Request.Path.StartsWithSegments(DashboardAccess.Path);
        if (guarded && http.User.Identity?.IsAuthenticated != true)
        {
            await http.ChallengeAsync();
            return;
        }
        await next(http);
    });
}
