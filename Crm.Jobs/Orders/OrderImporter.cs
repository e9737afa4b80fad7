namespace Crm.Jobs.Orders;

// Placeholder replaced by the importer implementation.
public sealed class OrderImporter;
