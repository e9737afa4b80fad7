namespace Crm.Tests.Infrastructure;

// Runs the real Crm.Api executable (built beside the tests) as a separate process.
public static class AppProcess
{
    public static Task<ProcessResult> RunAsync(string connectionString, TimeSpan timeout, params string[] args) =>
        RunAsync(connectionString, [], timeout, args);

    // With settings on top of the connection string, e.g. ("Crm__Database__AppRole", "crm_app").
    public static Task<ProcessResult> RunAsync(
        string connectionString, IEnumerable<(string Name, string Value)> settings, TimeSpan timeout, params string[] args)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Crm"] = connectionString, ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Crm__Privacy__HashKey"] = TestKeys.PrivacyHashKey
        };
        foreach (var (name, value) in settings)
            environment[name] = value;
        return ChildProcess.RunAsync("dotnet", AppContext.BaseDirectory, environment, timeout,
            [Path.Combine(AppContext.BaseDirectory, "Crm.Api.dll"), .. args]);
    }
}
