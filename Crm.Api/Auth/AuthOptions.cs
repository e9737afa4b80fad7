namespace Crm.Api.Auth;

public sealed class AuthOptions
{
    public const string Section = "Crm:Auth";

    // Crm:Auth:ApiKeys:N:{Name,Key,Roles}; Roles lists some of reader, operator, admin.
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    // Roles may be text ("reader, operator", as environment variables write it) or a JSON
    // array (["reader"] in appsettings.json, which configuration flattens to Roles:0,
    // Roles:1, …, and the binder cannot put into a string): both are read here.
    public static AuthOptions Read(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var options = section.Get<AuthOptions>() ?? new AuthOptions();
        var keys = section.GetSection("ApiKeys").GetChildren().ToList();
        for (var i = 0; i < keys.Count && i < options.ApiKeys.Count; i++)
        {
            var roles = keys[i].GetSection("Roles");
            if (roles.Value is null)
                options.ApiKeys[i].Roles = string.Join(',', roles.GetChildren().Select(r => r.Value));
        }
        return options;
    }
}
