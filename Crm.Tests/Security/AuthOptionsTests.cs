using System.Text;
using Crm.Api.Auth;
using Microsoft.Extensions.Configuration;

namespace Crm.Tests.Security;

// Roles as .NET users write them: a JSON array in appsettings.json, or text in an
// environment variable; both configure the same key.
public class AuthOptionsTests
{
    private static AuthOptions FromJson(string json) => AuthOptions.Read(
        new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build());

    [Theory]
    [InlineData("""["reader"]""", new[] { "reader" })]
    [InlineData("""["reader", "operator"]""", new[] { "reader", "operator" })]
    [InlineData("\"reader\"", new[] { "reader" })]
    [InlineData("\"reader, operator\"", new[] { "reader", "operator" })]
    public void RolesAreReadAsAListOrAsText(string roles, string[] expected)
    {
        var options = FromJson("""
            {"Crm": {"Auth": {"ApiKeys": [
              {"Name": "first", "Key": "first-key-0123456789", "Roles": ["admin"]},
              {"Name": "second", "Key": "second-key-0123456789", "Roles": ROLES}
            ]}}}
            """.Replace("ROLES", roles));

        Assert.Equal(["admin"], options.ApiKeys[0].RoleList);
        Assert.Equal(expected, options.ApiKeys[1].RoleList);
        Assert.Empty(ApiKeyStore.Problems(options));
    }

    [Theory]
    [InlineData("""[]""")]
    [InlineData("""["reader", "superuser"]""")]
    [InlineData("\"\"")]
    public void UnknownOrMissingRolesAreStillRefused(string roles)
    {
        var options = FromJson("""{"Crm": {"Auth": {"ApiKeys": [{"Name": "k", "Key": "key-0123456789abcdef", "Roles": ROLES}]}}}""".Replace("ROLES", roles));

        Assert.Contains(ApiKeyStore.Problems(options), p => p.Contains("Roles must list"));
    }

    // Keys copied from a sample file or left as the sample says must never guard real data.
    [Theory]
    [InlineData("change-me-reader-key-0000")]
    [InlineData("CHANGEME-0123456789abcdef")]
    [InlineData("key-for-example-0123456789")]
    [InlineData("placeholder-0123456789abcdef")]
    [InlineData("your-key-goes-here-0123456")]
    [InlineData("xxxxxxxxxxxxxxxxxxxx")]
    [InlineData("prefix-XXXX-0123456789abc")]
    [InlineData("0000000000000000")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaa")]
    public void PlaceholderLookingKeysAreRefusedNamingTheKey(string key)
    {
        var options = FromJson("""{"Crm": {"Auth": {"ApiKeys": [{"Name": "shop-backend", "Key": "KEY", "Roles": "reader"}]}}}""".Replace("KEY", key));

        var problem = Assert.Single(ApiKeyStore.Problems(options));
        Assert.Contains("'shop-backend'", problem);
        Assert.Contains("placeholder", problem);
    }

    [Theory]
    [InlineData("reader-key-0123456789abcdef")]
    [InlineData("ci-only-admin-key-0000")]
    [InlineData("3f9a1c0e7b2d48e6a5c1f0b9d8e7a6c5")]
    public void RealLookingKeysAreAccepted(string key)
    {
        var options = FromJson("""{"Crm": {"Auth": {"ApiKeys": [{"Name": "shop-backend", "Key": "KEY", "Roles": "reader"}]}}}""".Replace("KEY", key));

        Assert.Empty(ApiKeyStore.Problems(options));
    }
}
