namespace Crm.Api.Auth;

public static class CrmRoles
{
    public const string Reader = "reader";
    public const string Operator = "operator";
    public const string Admin = "admin";

    public static readonly string[] All = [Reader, Operator, Admin];

    // Each role includes the ones below it: admin ⊃ operator ⊃ reader.
    public static string[] Implied(IEnumerable<string> roles)
    {
        var granted = roles.ToHashSet();
        if (granted.Contains(Admin))
            granted.Add(Operator);
        if (granted.Contains(Operator))
            granted.Add(Reader);
        return [.. granted];
    }
}
