using System.Security.Claims;
using Crm.Jobs.Ledger;

namespace Crm.Api.Auth;

// Who sent a request: an API key's name and roles. A note's author and the ledger's source
// of an API write are the caller's name.
public sealed record Caller(string Name, string[] Roles)
{
    // Without configured keys (Development only) every caller of the API and the dashboard is this one.
    public static readonly Caller Development = new("development", CrmRoles.All);

    // Every route that writes demands an authenticated caller; with authentication off that
    // is the development caller, whose name this is.
    public static string NameOf(ClaimsPrincipal user) => user.Identity?.Name ?? Development.Name;

    // The ledger's source of an API write: the caller's key.
    public static string ChangeSourceOf(ClaimsPrincipal user) => ChangeLedger.ApiSource(NameOf(user));
}
