namespace Crm.Tests.Infrastructure;

public sealed class RealClockCrmApiFactory : CrmApiFactory
{
    public override bool UsesFakeClock => false;
}
