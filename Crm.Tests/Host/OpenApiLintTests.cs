using System.Text.Json.Nodes;
using Crm.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Crm.Tests.Host;

// The OpenAPI document as a generated client reads it: Redocly's recommended rules find no
// error and no warning, and every answer of authentication and the rate limiter is declared.
public class OpenApiLintTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    // The one version: ./test.sh reads it from here and installs it (scripts/test-tools.sh).
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
    [InlineData("/api/jobs/{jobId}", "get", true)] // a webhook or ledger job's details: admin only
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
        // Every key may read, but for the admin-only reads (the webhooks, a webhook or ledger
        // job): only those GETs answer 403 and declare it.
        Assert.Equal(needsMoreThanReading, responses.ContainsKey("403"));
        Assert.NotNull(responses["429"]!["headers"]?["Retry-After"]);
    }

    // The linter runs offline: no usage report, no update check.
    private static Task<ProcessResult> RunAsync(string program, string workingDirectory, params string[] args) =>
        ChildProcess.RunAsync(program, workingDirectory,
            new Dictionary<string, string> { ["REDOCLY_TELEMETRY"] = "off", ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true" },
            TimeSpan.FromMinutes(2), args);

    private static string RepoRoot() => PrivatePostgres.RepoRoot();
}
