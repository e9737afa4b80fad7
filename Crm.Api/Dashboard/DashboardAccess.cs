using System.Net.Http.Headers;
using System.Text;
using Crm.Api.Auth;
using Hangfire.Dashboard;

namespace Crm.Api.Dashboard;

// The dashboard speaks HTTP Basic with the API keys (user = key name, password = key), so
// a browser asks for them natively. It never trusts "local requests": behind a reverse
// proxy every request looks local.
public sealed class DashboardBasicAuthentication(RequestDelegate next, ApiKeyStore keys)
{
    public const string Realm = "crm-minimal dashboard";

    public async Task InvokeAsync(HttpContext http)
    {
        var caller = keys.Disabled ? new Caller("development", CrmRoles.All) : Authenticate(http.Request);
        if (caller is null || !caller.Roles.Contains(CrmRoles.Reader))
        {
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            http.Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";
            return;
        }
        http.User = ApiKeyAuthenticationHandler.Principal(caller, "Basic");
        await next(http);
    }

    private Caller? Authenticate(HttpRequest request)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
            return null;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            // Not base64: the same answer as a wrong password.
            return null;
        }
        var colon = decoded.IndexOf(':');
        if (colon < 0)
            return null;
        var caller = keys.Find(decoded[(colon + 1)..]);
        // The user name must be the key's own name: a key alone is not enough to guess into.
        return caller is not null && caller.Name == decoded[..colon] ? caller : null;
    }
}

// Hangfire asks this after the middleware above has authenticated the caller.
public sealed class DashboardAccess : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) =>
        context.GetHttpContext().User.IsInRole(CrmRoles.Reader);

    // Readers may look; only admins trigger, retry and delete jobs.
    public static bool IsReadOnly(DashboardContext context) =>
        !context.GetHttpContext().User.IsInRole(CrmRoles.Admin);
}
