namespace Crm.Api.Dashboard;

// Crm:Dashboard: how the dashboard's pages show what they show.
public sealed class DashboardSettings
{
    public const string Section = "Crm:Dashboard";

    // The zone the dashboard's pages show times in (IANA name); each page names it.
    public string TimeZone { get; set; } = "Europe/Moscow";
}
