namespace Crm.Tests.Infrastructure;

// Runs the real Crm.Api executable (built beside the tests) as a separate process.
public static class AppProcess
{
    public static Task<ProcessResult> RunAsync(string connectionString, TimeSpan timeout, params string[] args) =>
        ChildProcess.RunAsync("dotnet", AppContext.BaseDirectory,
            new Dictionary<string, string>
            {
                ["ConnectionStrings__Crm"] = connectionString, ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Crm__Privacy__HashKey"] = TestKeys.PrivacyHashKey
            },
            timeout, [Path.Combine(AppContext.BaseDirectory, "Crm.Api.dll"), .. args]);
}
