using System.Text.RegularExpressions;
using Crm.Api.Auth;
using Crm.Api.JobStatus;
using Hangfire.Dashboard;

namespace Crm.Api.Dashboard;

// Hangfire asks this after the handler above has authenticated the caller. Readers see the
// dashboard, except the job page of a webhook or ledger job (AdminOnlyJobs): Hangfire
// answers them 403 there.
public sealed partial class DashboardAccess : IDashboardAuthorizationFilter
{
    public const string Path = "/hangfire";

    public bool Authorize(DashboardContext context)
    {
        var user = context.GetHttpContext().User;
        if (!user.IsInRole(CrmRoles.Reader))
            return false;
        if (user.IsInRole(CrmRoles.Admin))
            return true;
        var details = JobDetailsPath().Match(context.Request.Path);
        return !details.Success || !AdminOnlyJobs.Includes(context.Storage, details.Groups["id"].Value);
    }

    // Readers may look; only admins trigger, retry and delete jobs.
    public static bool IsReadOnly(DashboardContext context) =>
        !context.GetHttpContext().User.IsInRole(CrmRoles.Admin);

    // Hangfire's job page, /hangfire/jobs/details/{id}, below the dashboard's path.
    [GeneratedRegex("^/jobs/details/(?<id>.+)$")]
    private static partial Regex JobDetailsPath();
}
