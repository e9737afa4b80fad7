using System.Text.Json;
using System.Text.Json.Serialization;

namespace Crm.Jobs.Data;

// The one JSON dialect of the service: the HTTP API and NDJSON imports read alike.
public static class CrmJson
{
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.PropertyNameCaseInsensitive = true;
        options.Converters.Add(new StrictEnumConverter());
        // Statistics, ids and timestamps are not writable: a client that sends them hears so.
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
    }

    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        return options;
    }
}
