using System.Text.Json.Serialization;

namespace Crm.Api.Customers;

public sealed record OriginalJobAccepted(
    [property: JsonPropertyName("job_id")] string JobId,
    [property: JsonPropertyName("status_url")] string StatusUrl);
