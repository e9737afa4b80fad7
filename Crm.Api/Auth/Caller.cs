namespace Crm.Api.Auth;

public sealed record Caller(string Name, string[] Roles);
