namespace Crm.Tests.Infrastructure;

public sealed class DevelopmentBadInputCorpusFactory : BadInputCorpusFactory
{
    protected override string EnvironmentName => "Development";
}
