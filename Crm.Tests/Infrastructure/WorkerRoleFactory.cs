namespace Crm.Tests.Infrastructure;

public sealed class WorkerRoleFactory() : RoleFactory("worker");
