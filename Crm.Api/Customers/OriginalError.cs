using System.Text.Json.Serialization;

namespace Crm.Api.Customers;

public sealed record OriginalError(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("status_url")] string StatusUrl);
