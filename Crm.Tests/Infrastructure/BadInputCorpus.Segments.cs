namespace Crm.Tests.Infrastructure;

public static partial class BadInputCorpus
{
    // Saved segments: a name and GET /api/customers' filters (the factory saves "VIP в Перми").
    private static IEnumerable<MalformedRequest> SegmentRequests()
    {
        var cases = new List<MalformedRequest>();
        void Add(string method, string path, string? contentType, string? body, int status, string what) =>
            cases.Add(new MalformedRequest(method, path, contentType, body, status, what));
        void Get(string path, int status, string what) => Add("GET", path, null, null, status, what);
        void Post(string body, int status, string what) => Add("POST", "/api/segments", Json, body, status, what);

        Post("{}", 400, "segment without name and filter");
        Post("""{"name":"","filter":{}}""", 400, "segment with an empty name");
        Post("""{"name":"  ","filter":{}}""", 400, "segment with a blank name");
        Post($$$"""{"name":"{{{new string('я', 101)}}}","filter":{}}""", 400, "segment with a 101-character name");
        Post("""{"name":"a\u0000b","filter":{}}""", 400, "segment with NUL in the name");
        Post("""{"name":"x"}""", 400, "segment without a filter");
        Post("""{"name":"x","filter":"vip"}""", 400, "segment with a text filter");
        Post("""{"name":"x","filter":{"minSpend":100000}}""", 400, "segment filter with a misspelt member");
        Post("""{"name":"x","filter":{"search":"Иванов"}}""", 400, "segment filter with search text");
        Post("""{"name":"x","filter":{"minSpent":"abc"}}""", 400, "segment filter with a text minimum spent");
        Post("""{"name":"x","filter":{"minSpent":1e400}}""", 400, "segment filter with an overflowing minimum spent");
        Post("""{"name":"x","filter":{"minOrders":5,"maxOrders":4}}""", 400, "segment filter with fewer orders at most than at least");
        Post("""{"name":"x","filter":{"category":["gold"]}}""", 400, "segment filter with an unknown category");
        Post("""{"name":"x","filter":{"category":"vip"}}""", 400, "segment filter with a category that is no array");
        Post("""{"name":"x","filter":{"lastOrderTo":"P60D"}}""", 400, "segment filter with a duration ahead of now");
        Post("""{"name":"x","filter":{"createdFrom":"31.12.2026"}}""", 400, "segment filter with a date not ISO 8601");
        Post("""{"name":"x","filter":{"ordering":"name;DROP TABLE segments"}}""", 400, "segment filter with SQL in the ordering");
        Post("""{"name":"x","filter":{},"createdBy":"admin"}""", 400, "segment with a forged author");
        Post("""{"name":"vip В ПЕРМИ","filter":{}}""", 409, "segment with a taken name in another case");
        Post("""{"name":"x","filter":{}""", 400, "segment as truncated JSON");
        Post("[]", 400, "segment as an array");
        Post("null", 400, "segment as JSON null");
        Add("POST", "/api/segments", "text/plain", """{"name":"x","filter":{}}""", 415, "segment as text/plain");
        Add("POST", "/api/segments", null, """{"name":"x","filter":{}}""", 415, "segment without a content type");

        Get("/api/segments?page=0", 400, "segments page zero");
        Get("/api/segments?pageSize=201", 400, "segments page size over the bound");
        Get("/api/segments?page=abc", 400, "segments text page");
        Get("/api/segments?count=maybe", 400, "segments with an unknown count");
        Get("/api/segments/abc", 400, "non-numeric segment id");
        Get("/api/segments/-1", 404, "unknown segment");
        Get("/api/segments/1e400", 400, "exponent segment id");
        Get("/api/segments/99999999999999999999", 400, "overflowing segment id");
        Get("/api/segments/abc/customers", 400, "customers of a non-numeric segment id");
        Get("/api/segments/-1/customers", 404, "customers of an unknown segment");
        Get("/api/segments/{segment}/customers?page=0", 400, "segment customers page zero");
        Get("/api/segments/{segment}/customers?pageSize=201", 400, "segment customers page size over the bound");
        Get("/api/segments/{segment}/customers?ordering=phone", 400, "segment customers by an unknown ordering");
        Get("/api/segments/{segment}/customers?count=maybe", 400, "segment customers with an unknown count");
        Add("DELETE", "/api/segments/-1", null, null, 404, "delete an unknown segment");
        Add("DELETE", "/api/segments/0", null, null, 404, "delete segment id zero");
        Add("DELETE", "/api/segments/abc", null, null, 400, "delete a non-numeric segment id");
        Add("DELETE", "/api/segments/99999999999999999999", null, null, 400, "delete an overflowing segment id");
        Add("PUT", "/api/segments/{segment}", Json, """{"name":"x","filter":{}}""", 405, "replacing a segment");
        Add("PATCH", "/api/segments/{segment}", Json, """{"name":"x"}""", 405, "patching a segment");
        Add("DELETE", "/api/segments", null, null, 405, "deleting every segment");
        return cases;
    }
}
