namespace Crm.Tests.Infrastructure;

public sealed record TestKey(string Name, string Key, string Roles);
