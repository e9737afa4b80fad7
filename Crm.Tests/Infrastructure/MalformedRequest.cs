using System.Net.Http.Headers;
using System.Text;
using Xunit.Abstractions;

namespace Crm.Tests.Infrastructure;

// One malformed request of the corpus: what is sent and what must come back. Paths may hold
// {customer}, {otherCustomer}, {order}, {run}, {dryRun}, {revertedRun}, {webhook} and {disabledWebhook},
// replaced by the ids of the fixture's rows.
public sealed class MalformedRequest : IXunitSerializable
{
    public string What { get; private set; } = "";
    public string Method { get; private set; } = "";
    public string Path { get; private set; } = "";
    public string? ContentType { get; private set; }

    // Text sent as UTF-8, or "base64:..." for bytes that are not UTF-8.
    public string? Body { get; private set; }
    public int Status { get; private set; }
    public string? IfMatch { get; private set; }

    // Imports that land nothing answer 200 and report their bad lines: how many were rejected and reported (-1: not an import).
    public int Rejected { get; private set; } = -1;
    public int Errors { get; private set; } = -1;

    public MalformedRequest() { }

    public MalformedRequest(string method, string path, string? contentType, string? body, int status, string what,
        int rejected = -1, int errors = -1, string? ifMatch = null)
    {
        (Method, Path, ContentType, Body, Status, What, Rejected, Errors, IfMatch) =
            (method, path, contentType, body, status, what, rejected, errors, ifMatch);
    }

    public bool IsImport => Rejected >= 0;

    public HttpRequestMessage ToHttpRequest(IReadOnlyDictionary<string, string> ids)
    {
        var path = ids.Aggregate(Path, (p, id) => p.Replace(id.Key, id.Value));
        var request = new HttpRequestMessage(new HttpMethod(Method), path);
        if (Body is not null)
        {
            var bytes = Body.StartsWith("base64:", StringComparison.Ordinal)
                ? Convert.FromBase64String(Body["base64:".Length..])
                : Encoding.UTF8.GetBytes(Body);
            request.Content = new ByteArrayContent(bytes);
            request.Content.Headers.ContentType = ContentType is null ? null : MediaTypeHeaderValue.Parse(ContentType);
        }
        if (IfMatch is not null)
            request.Headers.TryAddWithoutValidation("If-Match", IfMatch);
        return request;
    }

    public void Serialize(IXunitSerializationInfo info)
    {
        info.AddValue(nameof(What), What);
        info.AddValue(nameof(Method), Method);
        info.AddValue(nameof(Path), Path);
        info.AddValue(nameof(ContentType), ContentType);
        info.AddValue(nameof(Body), Body);
        info.AddValue(nameof(Status), Status);
        info.AddValue(nameof(IfMatch), IfMatch);
        info.AddValue(nameof(Rejected), Rejected);
        info.AddValue(nameof(Errors), Errors);
    }

    public void Deserialize(IXunitSerializationInfo info)
    {
        What = info.GetValue<string>(nameof(What));
        Method = info.GetValue<string>(nameof(Method));
        Path = info.GetValue<string>(nameof(Path));
        ContentType = info.GetValue<string?>(nameof(ContentType));
        Body = info.GetValue<string?>(nameof(Body));
        Status = info.GetValue<int>(nameof(Status));
        IfMatch = info.GetValue<string?>(nameof(IfMatch));
        Rejected = info.GetValue<int>(nameof(Rejected));
        Errors = info.GetValue<int>(nameof(Errors));
    }

    public override string ToString()
    {
        var path = Path.Length <= 70 ? Path : Path[..70] + "…";
        return $"{Method} {path}: {What}";
    }
}
