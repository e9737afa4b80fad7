namespace Crm.Jobs.Hosting;

public enum AppRole
{
    All,
    Api,
    Worker,
}
