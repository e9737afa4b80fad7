using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using Crm.Api.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Crm.Api.Dashboard;

// The dashboard speaks HTTP Basic with the API keys (user = key name, password = key), so
// a browser asks for them natively. It never trusts "local requests": behind a reverse
// proxy every request looks local. Commands need the page's antiforgery token as well,
// since a browser resends Basic credentials on a cross-site form post.
public sealed class DashboardBasicAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Basic";
    public const string Realm = "crm-minimal dashboard";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (keys.Disabled)
            return Task.FromResult(Success(Caller.Development));
        if (Request.Headers.Authorization.Count == 0)
            return Task.FromResult(AuthenticateResult.NoResult());
        var caller = FromBasicHeader(Request);
        return Task.FromResult(caller is null ? AuthenticateResult.Fail("Invalid dashboard credentials.") : Success(caller));
    }

    private AuthenticateResult Success(Caller caller) => AuthenticateResult.Success(
        new AuthenticationTicket(ApiKeyAuthenticationHandler.Principal(caller, SchemeName), SchemeName));

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";
        return Task.CompletedTask;
    }

    private Caller? FromBasicHeader(HttpRequest request)
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
