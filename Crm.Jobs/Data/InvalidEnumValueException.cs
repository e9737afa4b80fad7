using System.Text.Json;

namespace Crm.Jobs.Data;

// A value that is none of an enum's names. The HTTP API tells the client the allowed values
// from Expected, never by reading this message.
public sealed class InvalidEnumValueException(string expected)
    : JsonException($"The value could not be converted: expected one of: {expected}.")
{
    public string Expected { get; } = expected;
}
