using Crm.Jobs.Customers;

namespace Crm.Api.Customers;

// What POST /api/customers/merge would make of the customers, written nowhere: every phone,
// the contact fields with where each comes from, the statistics over the orders of every
// phone, the category with its reason, and the fields the customers disagree on.
public sealed record MergePreviewResponse(
    long TargetId,
    IReadOnlyList<long> SourceIds,
    IReadOnlyList<string> Phones,
    MergedField Name,
    MergedField Email,
    MergedField City,
    MergedField Address,
    MergedField Notes,
    int TotalOrders,
    decimal TotalSpent,
    decimal AverageOrder,
    DateTime? LastOrderDate,
    CustomerCategory Category,
    CategoryReason CategoryReason,
    IReadOnlyList<MergeConflict> Conflicts);
