namespace Crm.Jobs.Privacy;

// A single order write of an erased person, dated before the erase: refused, nothing stored
// (docs/PRIVACY.md#erase-that-sticks). The message names no one.
public sealed class ErasedOrderException() : Exception(
    "The order's phone was erased after the order's createdAt: orders from before an erase are not stored.");
