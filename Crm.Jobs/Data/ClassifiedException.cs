namespace Crm.Jobs.Data;

// A failure whose message was written for readers (FailureText passes it on as it is):
// what happened, naming no host, constraint or value.
public sealed class ClassifiedException(string message) : Exception(message);
