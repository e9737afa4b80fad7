namespace Crm.Api.Dashboard;

// One line of SvgChart.Lines: a value per x label.
public sealed record ChartSeries(string Name, IReadOnlyList<double> Values);
