using Crm.Jobs.Categories;

namespace Crm.Api.Categories;

// Customers per category as stored (current) and as these thresholds would make them today
// (proposed), and who would move where; inactiveBefore is the date the thresholds imply.
public sealed record CategoryPreviewResponse(
    CategoryThresholds Thresholds, CategoryCounts Current, CategoryCounts Proposed, List<CategoryTransition> Transitions);
