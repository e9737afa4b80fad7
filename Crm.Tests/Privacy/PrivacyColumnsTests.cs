using System.Text.RegularExpressions;
using Crm.Tests.Infrastructure;

namespace Crm.Tests.Privacy;

// docs/PRIVACY.md names every column that can hold text: a new place for personal data cannot
// be added without saying there what it holds and what erase and export do with it.
public class PrivacyColumnsTests(CrmApiFactory factory) : IClassFixture<CrmApiFactory>
{
    [Fact]
    public async Task EveryTextAndJsonColumnOfBothSchemasIsListedInPrivacyMd()
    {
        factory.CreateClient(); // starts the host: Hangfire's schema is installed with it
        var listed = Regex.Matches(await File.ReadAllTextAsync(Path.Combine(PrivatePostgres.RepoRoot(), "docs", "PRIVACY.md")), "`([a-z_.]+)`")
            .Select(m => m.Groups[1].Value).ToHashSet();

        var columns = await PersonalDataScan.TextColumnsAsync(factory.ConnectionString);
        Assert.Contains(columns, c => c.Schema == "hangfire");
        var missing = columns
            .Select(c => c.Schema == "public" ? $"{c.Table}.{c.Column}" : $"{c.Schema}.{c.Table}.{c.Column}")
            .Where(name => !listed.Contains(name))
            .ToList();
        Assert.True(missing.Count == 0, "Not in docs/PRIVACY.md: " + string.Join(", ", missing));
    }
}
