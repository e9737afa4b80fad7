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
}
