using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Crm.Api.Auth;

// X-Api-Key → the key's name and roles. Without configured keys (Development only) every
// caller is the all-powerful development caller (Caller.Development).
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyStore keys, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (keys.Disabled)
            return Task.FromResult(Success(Caller.Development));
        if (!Request.Headers.TryGetValue(Header, out var presented) || string.IsNullOrEmpty(presented))
            return Task.FromResult(AuthenticateResult.NoResult());
        var caller = keys.Find(presented.ToString());
        return Task.FromResult(caller is null ? AuthenticateResult.Fail("Invalid API key.") : Success(caller));
    }

    public static ClaimsPrincipal Principal(Caller caller, string scheme) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.Name, caller.Name), .. caller.Roles.Select(r => new Claim(ClaimTypes.Role, r))], scheme));

    private AuthenticateResult Success(Caller caller) =>
        AuthenticateResult.Success(new AuthenticationTicket(Principal(caller, SchemeName), SchemeName));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{Header}\"";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = 401, Title = "An API key is required", Detail = $"Send a valid key in the {Header} header." },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = 403, Title = "This key's role does not allow this request" },
        });
    }
}
