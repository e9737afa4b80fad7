namespace Crm.Tests.Infrastructure;

public sealed class DevelopmentCrmApiFactory : CrmApiFactory
{
    protected override string EnvironmentName => "Development";
}
