namespace Crm.Api.Segments;

public sealed record SegmentRequest(string? Name, SegmentFilter? Filter);
