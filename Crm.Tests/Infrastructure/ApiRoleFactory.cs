namespace Crm.Tests.Infrastructure;

public sealed class ApiRoleFactory() : RoleFactory("api");
