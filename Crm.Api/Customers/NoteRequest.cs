namespace Crm.Api.Customers;

public sealed record NoteRequest(string? Note);
