using System.Net;
using Hangfire.Dashboard;

namespace Crm.Api.Dashboard;

// Until API keys guard it: the dashboard is open in Development, and otherwise only to
// requests from this machine. The in-process test server has no remote address at all,
// which Hangfire's own local-only filter refuses.
public sealed class DashboardAccess(IHostEnvironment environment) : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context)
    {
        if (environment.IsDevelopment())
            return true;
        var remote = context.GetHttpContext().Connection.RemoteIpAddress;
        return remote is null || IPAddress.IsLoopback(remote);
    }
}
