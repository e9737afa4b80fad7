using System.Text.Json.Nodes;

namespace Crm.Tests.Infrastructure;

public static class CorpusAssertions
{
    // The answer is the expected status without a 5xx, in problem details (or the import's
    // report of its rejected lines), shows no internals, and the database is unchanged.
    public static async Task AssertRefusedAsync(BadInputCorpusFactory factory, HttpClient client, MalformedRequest request)
    {
        var before = await factory.FingerprintAsync();

        var response = await client.SendAsync(request.ToHttpRequest(factory.Ids));

        var body = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        var shown = body.Length <= 600 ? body : body[..600] + "…";
        Assert.True(status < 500, $"{request} → {status}: {shown}");
        Assert.True(status == request.Status, $"{request}: expected {request.Status}, got {status}: {shown}");
        foreach (var leak in new[] { "   at ", "System.", "Npgsql", "Microsoft.", "Hangfire.", "Exception", "StackTrace", "stackTrace", "Crm." })
            Assert.False(body.Contains(leak, StringComparison.Ordinal), $"{request}: the body shows '{leak}': {shown}");
        if (status >= 400)
        {
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json",
                $"{request}: content type {response.Content.Headers.ContentType}: {shown}");
            var problem = JsonNode.Parse(body)!;
            Assert.Equal(status, (int)problem["status"]!);
            Assert.False(string.IsNullOrWhiteSpace((string?)problem["title"]), $"{request}: no title: {shown}");
        }
        else if (request.IsImport)
        {
            var result = JsonNode.Parse(body)!;
            Assert.True(0 == (int)result["imported"]!, $"{request}: {shown}");
            Assert.True(request.Rejected == (int)result["rejected"]!, $"{request}: {shown}");
            var errors = result["errors"]!.AsArray();
            Assert.True(request.Errors == errors.Count, $"{request}: {shown}");
            Assert.All(errors, e => Assert.False(string.IsNullOrWhiteSpace((string?)e!["reason"])));
            Assert.Null(result["jobId"]);
        }
        else
        {
            Assert.NotNull(JsonNode.Parse(body));
        }

        Assert.Equal(before, await factory.FingerprintAsync());
    }
}
