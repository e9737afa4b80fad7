using System.Diagnostics;
using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Crm.Tests.Host;

// The OpenAPI document as a generated client reads it: Redocly's recommended rules find no
// error and no warning, and every answer of authentication and the rate limiter is declared.
public class OpenApiLintTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    // The one version CI installs (.ci/run) and the README names.
    public const string RedoclyVersion = "2.77.0";
    private const string Install = $"npm install --prefix .tools/redocly @redocly/cli@{RedoclyVersion}";

    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task TheDocumentPassesRedoclysRecommendedRulesWithoutAWarning()
    {
        var cli = Path.Combine(RepoRoot(), ".tools", "redocly", "node_modules", ".bin", "redocly");
        Assert.True(File.Exists(cli), $"The Redocly CLI is missing ({cli}). Install it from the repository root: {Install}");

        var work = Directory.CreateTempSubdirectory("crm-openapi-lint-");
        try
        {
            var document = Path.Combine(work.FullName, "openapi.json");
            // The document's server is the address it was fetched from: fetch it at an address a
            // deployment has, not at the test host's "localhost", which the linter rightly flags.
            var client = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("http://127.0.0.1:5080") });
            await File.WriteAllTextAsync(document, await client.GetStringAsync("/openapi/v1.json"));
            var lint = await RunAsync(cli, work.FullName,
                "lint", "--extends=recommended", "--format=json", "--max-problems=1000", document);
            var exitCode = lint.ExitCode;

            var report = JsonNode.Parse(lint.StandardOutput)
                ?? throw new InvalidOperationException($"redocly printed no report (exit code {exitCode}): {lint.StandardError}");
            var problems = report["problems"]!.AsArray().Select(p =>
                $"{p!["severity"]} {p["ruleId"]}: {p["message"]} at {string.Join(", ", p["location"]!.AsArray().Select(l => l!["pointer"]))}");
            var totals = report["totals"]!;
            Assert.True(exitCode == 0 && (int)totals["errors"]! == 0 && (int)totals["warnings"]! == 0,
                $"redocly lint (exit code {exitCode}) found {totals["errors"]} error(s) and {totals["warnings"]} warning(s):\n"
                + string.Join("\n", problems));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("/api/customers", "get", false)]
    [InlineData("/api/customers", "post", true)]
    [InlineData("/api/customers/{id}", "patch", true)]
    [InlineData("/api/customers/{id}", "delete", true)]
    [InlineData("/api/jobs/{jobId}", "get", false)]
    [InlineData("/api/sync", "post", true)]
    [InlineData("/api/customers/sync_from_orders", "post", true)]
    [InlineData("/api/customers/{id}/orders_history", "get", false)]
    [InlineData("/api/webhooks", "get", true)]
    [InlineData("/api/webhooks/{id}/deliveries", "get", true)]
    [InlineData("/api/webhooks/{id}/test", "post", true)]
    public async Task EachOperationDeclaresTheAnswersOfAuthenticationRolesAndTheRateLimit(string path, string method, bool needsMoreThanReading)
    {
        var document = await (await _client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        var responses = document["paths"]![path]![method]!["responses"]!.AsObject();

        foreach (var status in new[] { "401", "429" }.Concat(needsMoreThanReading ? ["403"] : []))
        {
            Assert.True(responses.ContainsKey(status), $"{method} {path} does not declare {status}: {responses.ToJsonString()}");
            Assert.NotNull(responses[status]!["content"]?["application/problem+json"]);
        }
        // Every key may read, but for the admin-only reads (the webhooks): only those GETs
        // answer 403 and declare it.
        Assert.Equal(needsMoreThanReading, responses.ContainsKey("403"));
        Assert.NotNull(responses["429"]!["headers"]?["Retry-After"]);
    }

    private static async Task<ProcessResult> RunAsync(string program, string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        // The linter runs offline: no usage report, no update check.
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not exit within 2 minutes.");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "crm-minimal.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No crm-minimal.sln above {AppContext.BaseDirectory}.");
    }
}
