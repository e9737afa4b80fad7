namespace Crm.Api.Dashboard;

// One dot of SvgChart.Dots: when, how much (milliseconds), and which series it belongs to.
public sealed record ChartPoint(DateTime At, double Value, string Series);
