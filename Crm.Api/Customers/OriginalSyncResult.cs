using System.Text.Json.Serialization;

namespace Crm.Api.Customers;

// The original Django CRM's bodies are snake_case: these records name their fields for it,
// so only these answers differ from the API's camelCase (and the OpenAPI schemas say so).
public sealed record OriginalSyncResult(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("created_count")] int CreatedCount,
    [property: JsonPropertyName("updated_count")] int UpdatedCount,
    [property: JsonPropertyName("error_count")] int ErrorCount,
    [property: JsonPropertyName("total_customers")] int TotalCustomers,
    [property: JsonPropertyName("job_id")] string JobId);
