namespace Crm.Api.Categories;

// Thresholds to try; a missing one is the configured value (Crm:Categories).
public sealed record CategoryPreviewRequest(int? RegularMinOrders, int? VipMinOrders, decimal? VipMinSpent, int? InactiveAfterDays);
