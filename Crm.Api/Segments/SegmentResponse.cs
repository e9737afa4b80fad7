namespace Crm.Api.Segments;

// Count: the customers the filter selects now, counted exactly.
public sealed record SegmentResponse(long Id, string Name, SegmentFilter Filter, int Count, DateTime CreatedAt, string CreatedBy);
