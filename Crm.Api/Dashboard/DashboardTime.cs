using System.Globalization;
using Microsoft.Extensions.Options;

namespace Crm.Api.Dashboard;

// The dashboard's clock face: the database keeps UTC, the people reading the pages live in
// Crm:Dashboard:TimeZone, and every page says which zone its times are in.
public sealed class DashboardTime
{
    private readonly TimeZoneInfo _zone;

    // The zone is checked once, at start (the options' ValidateOnStart in AddCrmApi).
    public DashboardTime(IOptions<DashboardSettings> settings)
    {
        ZoneName = settings.Value.TimeZone;
        _zone = TimeZoneInfo.FindSystemTimeZoneById(ZoneName);
    }

    // The zone as configured ("Europe/Moscow"), for column headings and captions.
    public string ZoneName { get; }

    public DateTime ToLocal(DateTime utc) =>
        TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), _zone);

    // The UTC instant a day begins in the dashboard's zone (where a clock change skips
    // midnight, the first minute that exists).
    public DateTime StartOfDayUtc(DateOnly day)
    {
        var local = day.ToDateTime(TimeOnly.MinValue);
        while (_zone.IsInvalidTime(local))
            local = local.AddMinutes(1);
        return TimeZoneInfo.ConvertTimeToUtc(local, _zone);
    }

    // "2026-12-06 23:15:04" in the dashboard's zone.
    public string Format(DateTime utc) => ToLocal(utc).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public string Format(DateTime? utc, string none) => utc is { } at ? Format(at) : none;
}
